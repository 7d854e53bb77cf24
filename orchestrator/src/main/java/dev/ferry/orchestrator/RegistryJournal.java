package dev.ferry.orchestrator;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.ferry.persistence.postgres.PostgresJournal;
import java.sql.SQLException;
import java.util.Map;

/**
 * Where an orchestrator node's registry persists: the embedded LevelDB journal under its data directory (one
 * orchestrator node), or PostgreSQL shared by every orchestrator node (entities move between them when a node
 * dies, so they must find their events wherever they restart). Chosen by {@code ferry.journal} ({@code -Dferry.journal}
 * or {@code FERRY_JOURNAL}): {@code leveldb} (default) or {@code postgres}, the latter connecting with
 * {@code ferry.postgres.url/user/password} ({@code FERRY_POSTGRES_URL}, {@code FERRY_POSTGRES_USER},
 * {@code FERRY_POSTGRES_PASSWORD}).
 */
public record RegistryJournal(String kind, Config config) {
    public static RegistryJournal choose() {
        Config sys = ConfigFactory.systemProperties();
        String env = System.getenv("FERRY_JOURNAL");
        String kind = sys.hasPath("ferry.journal") ? sys.getString("ferry.journal") : env == null ? "leveldb" : env;
        return switch (kind) {
            // the LevelDB read journal the registry's projections use accepts only the stock write journal class
            case "leveldb" -> new RegistryJournal(kind, ConfigFactory.parseMap(Map.of(
                    "pekko.persistence.journal.leveldb.class",
                    org.apache.pekko.persistence.journal.leveldb.LeveldbJournal.class.getName())));
            case "postgres" -> {
                Config defaults = PostgresJournal.config();
                String url = pick(sys, defaults, "ferry.postgres.url");
                String user = pick(sys, defaults, "ferry.postgres.user");
                String password = pick(sys, defaults, "ferry.postgres.password");
                try {
                    PostgresJournal.createSchema(url, user, password);
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot prepare the registry's PostgreSQL journal at " + url + " as "
                            + user + ": " + e.getMessage(), e);
                }
                yield new RegistryJournal(kind, ConfigFactory.parseMap(Map.of("ferry.registry.read-journal",
                        "jdbc-read-journal")).withFallback(PostgresJournal.config(url, user, password)));
            }
            default -> throw new IllegalArgumentException("ferry.journal is '" + kind + "'; use leveldb or postgres");
        };
    }

    private static String pick(Config sys, Config defaults, String path) {
        return sys.hasPath(path) ? sys.getString(path) : defaults.getString(path);
    }
}
