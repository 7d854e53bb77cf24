package dev.ferry.persistence.postgres.local;

import com.typesafe.config.Config;
import dev.ferry.persistence.postgres.PostgresJournal;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL server: a new cluster in a temporary directory, listening on 127.0.0.1 at a free port (its
 * unix socket in that directory too), with one database and one user made for the caller. {@link #close()} stops it
 * ({@code pg_ctl stop -m immediate}) and deletes the directory; a JVM that exits without closing it stops it from a
 * shutdown hook. Durability is off (no fsync): the data are for one run.
 *
 * <p>It runs Debian's binaries ({@code /usr/lib/postgresql/<version>/bin}, the newest version there). PostgreSQL
 * refuses to run as root, so a JVM running as root runs them as the {@code postgres} OS user through
 * {@code runuser -u postgres --}, and gives that user the temporary directory.
 */
public final class PostgresServer implements AutoCloseable {
    private static final Path DEBIAN_ROOT = Path.of("/usr/lib/postgresql");
    private static final String INSTALL_HINT = "install Debian's 'postgresql' package (apt-get install postgresql)";
    private static final String SERVER_OS_USER = "postgres";
    private static final String SUPERUSER = "postgres";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final String NAME_PATTERN = "[a-z_][a-z0-9_]{0,62}";

    private static final Optional<Path> BIN_DIR = findBinDir();
    private static final boolean ROOT = runsAsRoot();
    private static final String UNAVAILABILITY_CAUSE = computeUnavailabilityCause();

    private final Path root;
    private final Path dataDir;
    private final int port;
    private final String database;
    private final String user;
    private final String password;
    private final ProcessHandle postmaster;
    private final Thread shutdownHook;
    private boolean closed;

    private PostgresServer(Path root, int port, String database, String user, String password, ProcessHandle postmaster) {
        this.root = root;
        this.dataDir = root.resolve("data");
        this.port = port;
        this.database = database;
        this.user = user;
        this.password = password;
        this.postmaster = postmaster;
        this.shutdownHook = new Thread(this::stopAndDelete, "postgres-server-stop");
    }

    /** Whether a server can be started here: the binaries exist and, as root, there is a user to run them as. */
    public static boolean isAvailable() {
        return UNAVAILABILITY_CAUSE == null;
    }

    /** Why {@link #isAvailable()} is false, naming what to install; {@code null} when it is true. */
    public static String unavailabilityCause() {
        return UNAVAILABILITY_CAUSE;
    }

    /** The directory of the newest PostgreSQL binaries under /usr/lib/postgresql, if any. */
    public static Optional<Path> binDir() {
        return BIN_DIR;
    }

    /** Starts a server with database {@code ferry} owned by user {@code ferry}. */
    public static PostgresServer start() throws IOException {
        return start("ferry", "ferry");
    }

    /** Starts a server with this database, owned by this user (who gets a random password). */
    public static PostgresServer start(String database, String user) throws IOException {
        if (!database.matches(NAME_PATTERN) || !user.matches(NAME_PATTERN)) {
            throw new IllegalArgumentException("database '" + database + "' and user '" + user
                    + "' must be lower-case letters, digits or '_', not starting with a digit");
        }
        if (UNAVAILABILITY_CAUSE != null) {
            throw new IllegalStateException(UNAVAILABILITY_CAUSE);
        }
        Path bin = BIN_DIR.orElseThrow();
        Path root = Files.createTempDirectory("ferry-postgres-");
        Optional<ProcessHandle> postmaster = Optional.empty();
        try {
            Path socketDir = Files.createDirectory(root.resolve("run"));
            Path pwFile = root.resolve("superuser.pw");
            String superPassword = randomSecret();
            Files.writeString(pwFile, superPassword + "\n", StandardCharsets.UTF_8);
            if (ROOT) {
                UserPrincipal owner = root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(SERVER_OS_USER);
                for (Path p : List.of(root, socketDir, pwFile)) {
                    Files.setOwner(p, owner);
                }
            }
            Path dataDir = root.resolve("data");
            run(root, "initdb", bin.resolve("initdb").toString(), "-D", dataDir.toString(), "-U", SUPERUSER,
                    "--pwfile=" + pwFile, "--auth-local=trust", "--auth-host=scram-sha-256",
                    "-E", "UTF8", "--no-locale", "--no-sync");
            Files.delete(pwFile);
            Files.writeString(dataDir.resolve("postgresql.conf"), String.join("\n",
                    "",
                    "# ferry: a throwaway server for tests and local runs",
                    "listen_addresses = '127.0.0.1'",
                    "unix_socket_directories = '" + socketDir + "'",
                    "max_connections = 100",
                    "shared_buffers = 32MB",
                    "fsync = off",
                    "synchronous_commit = off",
                    "full_page_writes = off",
                    ""), StandardCharsets.UTF_8, StandardOpenOption.APPEND);

            int port = startOnFreePort(bin, root, dataDir);
            long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).strip());
            postmaster = ProcessHandle.of(pid);
            if (postmaster.isEmpty()) {
                throw new IOException("PostgreSQL in " + root + " reported pid " + pid + " but no such process runs; server log:\n"
                        + readQuietly(root.resolve("postgres.log")));
            }
            String password = randomSecret();
            try {
                createDatabase(port, superPassword, database, user, password);
            } catch (SQLException e) {
                throw new IOException("PostgreSQL in " + root + " started but creating database '" + database
                        + "' and user '" + user + "' failed: " + e.getMessage(), e);
            }
            PostgresServer server = new PostgresServer(root, port, database, user, password, postmaster.get());
            Runtime.getRuntime().addShutdownHook(server.shutdownHook);
            return server;
        } catch (IOException | RuntimeException e) {
            try {
                stop(bin, root, root.resolve("data"), postmaster);
                deleteTree(root);
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/<database>} */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public int port() {
        return port;
    }

    public String database() {
        return database;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    /** The cluster's data directory (its server log is {@code postgres.log} beside it). */
    public Path dataDir() {
        return dataDir;
    }

    /** The server's postmaster process. */
    ProcessHandle postmaster() {
        return postmaster;
    }

    /** A connection to the database as its user. */
    public Connection connect() throws SQLException {
        return connect(port, database, user, password);
    }

    /** {@link PostgresJournal#config} for this server. */
    public Config journalConfig() {
        return PostgresJournal.config(jdbcUrl(), user, password);
    }

    /** Stops the server at once ({@code pg_ctl stop -m immediate}) and deletes its directory. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it does the same
        }
        stopAndDelete();
    }

    private synchronized void stopAndDelete() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stop(BIN_DIR.orElseThrow(), root, dataDir, Optional.of(postmaster));
            deleteTree(root);
        } catch (IOException e) {
            throw new UncheckedIOException("stopping PostgreSQL (pid " + postmaster.pid() + ") in " + root + " failed", e);
        }
    }

    private static int startOnFreePort(Path bin, Path root, Path dataDir) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port = freePort();
            try {
                run(root, "pg_ctl start", bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(),
                        "-l", root.resolve("postgres.log").toString(), "-o", "-p " + port, "-w", "-t", "60", "start");
                return port;
            } catch (IOException e) {
                String log = readQuietly(root.resolve("postgres.log"));
                if (!log.contains("Address already in use")) {
                    throw new IOException(e.getMessage() + "\nserver log:\n" + log, e);
                }
                last = e; // another process took the port between our probe and the server's bind
            }
        }
        throw last;
    }

    private static void createDatabase(int port, String superPassword, String database, String user, String password)
            throws SQLException {
        try (Connection c = connect(port, "postgres", SUPERUSER, superPassword); Statement st = c.createStatement()) {
            // names are checked against NAME_PATTERN and the password is hex, so they need no escaping
            st.execute("CREATE ROLE " + user + " LOGIN PASSWORD '" + password + "'");
            st.execute("CREATE DATABASE " + database + " OWNER " + user);
        }
    }

    private static Connection connect(int port, String database, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
    }

    /**
     * Stops the server if it runs and waits until its postmaster has exited; kills the postmaster (the process started
     * for this server, never another with a reused pid) if pg_ctl cannot stop it.
     */
    private static void stop(Path bin, Path root, Path dataDir, Optional<ProcessHandle> postmaster) throws IOException {
        if (Files.exists(dataDir.resolve("postmaster.pid"))) {
            try {
                run(root, "pg_ctl stop", bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(),
                        "-m", "immediate", "-w", "-t", "30", "stop");
            } catch (IOException e) {
                if (postmaster.isEmpty()) {
                    throw e;
                }
                postmaster.get().destroyForcibly();
                if (!awaitExit(postmaster.get(), STOP_TIMEOUT)) {
                    throw e;
                }
            }
        }
        if (postmaster.isPresent() && !awaitExit(postmaster.get(), STOP_TIMEOUT)) {
            postmaster.get().destroyForcibly();
            if (!awaitExit(postmaster.get(), STOP_TIMEOUT)) {
                throw new IOException("postmaster " + postmaster.get().pid() + " survived pg_ctl stop and SIGKILL");
            }
        }
    }

    /** Whether the process exited (or is a zombie waiting for init to reap it) within the timeout. */
    private static boolean awaitExit(ProcessHandle process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process.isAlive() && !isZombie(process.pid())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 1).strip().startsWith("Z");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Runs a PostgreSQL program (as the postgres OS user when we are root) in {@code root}; fails on a non-zero exit. */
    private static void run(Path root, String what, String... command) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (ROOT) {
            cmd.addAll(List.of("runuser", "-u", SERVER_OS_USER, "--"));
        }
        cmd.addAll(List.of(command));
        Path out = Files.createTempFile(root, "cmd-", ".out");
        try {
            Process p = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            boolean exited;
            try {
                exited = p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException(what + " interrupted", e);
            }
            if (!exited) {
                p.destroyForcibly();
                throw new IOException(what + " did not finish in " + COMMAND_TIMEOUT.toSeconds() + " s: " + String.join(" ", cmd)
                        + "\n" + readQuietly(out));
            }
            if (p.exitValue() != 0) {
                throw new IOException(what + " exited with " + p.exitValue() + ": " + String.join(" ", cmd) + "\n" + readQuietly(out));
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String randomSecret() {
        byte[] b = new byte[16];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String readQuietly(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + p + ": " + e.getMessage() + ")";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static Optional<Path> findBinDir() {
        if (!Files.isDirectory(DEBIAN_ROOT)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(DEBIAN_ROOT)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparing(b -> versionKey(b.getParent().getFileName().toString())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** "15" -> "00015.00000", "9.6" -> "00009.00006": sorts as versions. */
    private static String versionKey(String version) {
        StringBuilder key = new StringBuilder();
        for (String part : version.split("\\.")) {
            key.append(String.format("%05d.", part.matches("\\d{1,5}") ? Integer.parseInt(part) : 0));
        }
        return key.toString();
    }

    private static boolean runsAsRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static String computeUnavailabilityCause() {
        if (BIN_DIR.isEmpty()) {
            return "PostgreSQL server binaries not found (no " + DEBIAN_ROOT + "/<version>/bin/initdb and pg_ctl): "
                    + INSTALL_HINT;
        }
        if (ROOT) {
            try {
                Path.of("/").getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(SERVER_OS_USER);
            } catch (IOException e) {
                return "PostgreSQL refuses to run as root and there is no '" + SERVER_OS_USER + "' OS user to run it as: "
                        + INSTALL_HINT + ", which creates that user";
            }
            if (Stream.of("/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser").noneMatch(p -> Files.isExecutable(Path.of(p)))) {
                return "running PostgreSQL as the '" + SERVER_OS_USER + "' user needs runuser: install Debian's 'util-linux' package";
            }
        }
        return null;
    }
}
