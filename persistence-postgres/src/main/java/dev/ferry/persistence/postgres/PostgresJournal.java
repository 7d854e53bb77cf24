package dev.ferry.persistence.postgres;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * Pekko Persistence on a shared PostgreSQL database: the configuration that points an ActorSystem's journal, snapshot
 * store and durable state store at it, and the tables they write to.
 */
public final class PostgresJournal {
    /** The configuration resource: pekko-persistence-jdbc on PostgreSQL, connection from {@code ferry.postgres.*}. */
    public static final String CONFIG_RESOURCE = "ferry-postgres.conf";
    /** The tables of the journal, the snapshot store and the durable state store. */
    public static final String SCHEMA_RESOURCE = "ferry-postgres-schema.sql";
    /** Serializes {@link #createSchema(Connection)} between nodes that start at the same time. */
    private static final long SCHEMA_LOCK_KEY = 0x6665727279L; // "ferry"

    private PostgresJournal() {}

    /**
     * The persistence configuration for this database, resolved, to put on top of a node's own configuration
     * ({@code PostgresJournal.config(...).withFallback(nodeConfig)}).
     */
    public static Config config(String url, String user, String password) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("'" + url + "' is not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database)");
        }
        return ConfigFactory.parseMap(Map.of(
                        "ferry.postgres.url", url,
                        "ferry.postgres.user", user,
                        "ferry.postgres.password", password))
                .withFallback(resource())
                .resolve();
    }

    /**
     * The persistence configuration with the connection taken from {@code FERRY_POSTGRES_URL}, {@code FERRY_POSTGRES_USER}
     * and {@code FERRY_POSTGRES_PASSWORD}, or the defaults of {@code ferry-postgres.conf} where one is not set.
     */
    public static Config config() {
        return resource().resolve();
    }

    /** Creates the tables (and indexes) that are missing; running it again, from any node, changes nothing. */
    public static void createSchema(String url, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        try (Connection c = DriverManager.getConnection(url, props)) {
            createSchema(c);
        }
    }

    /**
     * Creates the tables that are missing through this connection, in one transaction that holds an advisory lock, so
     * two nodes starting together do not race on the same {@code CREATE TABLE}.
     */
    public static void createSchema(Connection c) throws SQLException {
        List<String> statements = schemaStatements();
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK_KEY + ")");
            for (int i = 0; i < statements.size(); i++) {
                String sql = statements.get(i);
                try {
                    st.execute(sql);
                } catch (SQLException e) {
                    throw new SQLException("statement " + (i + 1) + " of " + SCHEMA_RESOURCE + " ("
                            + sql.lines().findFirst().orElse(sql) + ") failed as user '" + c.getMetaData().getUserName()
                            + "': " + e.getMessage() + ". The user needs CREATE on schema public; on PostgreSQL 15"
                            + " and later, make it the owner of the database", e.getSQLState(), e);
                }
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** The statements of {@code ferry-postgres-schema.sql}, in order, without comments. */
    public static List<String> schemaStatements() {
        String text;
        try (InputStream in = PostgresJournal.class.getClassLoader().getResourceAsStream(SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SCHEMA_RESOURCE + " is missing from the classpath (it ships in ferry-persistence-postgres)");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + SCHEMA_RESOURCE, e);
        }
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("--")) {
                continue;
            }
            current.append(line).append('\n');
            if (trimmed.endsWith(";")) {
                String sql = current.toString().strip();
                statements.add(sql.substring(0, sql.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            throw new IllegalStateException(SCHEMA_RESOURCE + " ends with a statement without ';': " + current.toString().strip());
        }
        return List.copyOf(statements);
    }

    private static Config resource() {
        return ConfigFactory.parseResources(PostgresJournal.class.getClassLoader(), CONFIG_RESOURCE,
                ConfigParseOptions.defaults().setAllowMissing(false));
    }
}
