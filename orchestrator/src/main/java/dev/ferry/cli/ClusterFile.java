package dev.ferry.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * What {@code ferry cluster up} started (the seed, each node's pid and log, the HTTP API's URL or null), so other
 * commands find the cluster.
 */
record ClusterFile(Path dir, String seed, Map<String, Long> pids, String httpUrl) {
    static final Path DEFAULT_DIR = Path.of(".ferry", "cluster");
    private static final String NAME = "cluster.properties";

    static ClusterFile read(Path dir) {
        Path f = dir.resolve(NAME);
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException("no local cluster at " + dir + " (start one with 'ferry cluster up', "
                    + "or pass --seeds)");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(f)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + f + ": " + e.getMessage());
        }
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String k : p.stringPropertyNames()) {
            if (k.startsWith("pid.")) {
                String v = p.getProperty(k).trim();
                long pid;
                try {
                    pid = Long.parseLong(v);
                } catch (NumberFormatException e) {
                    pid = -1;
                }
                if (pid < 1) {
                    throw new IllegalArgumentException(f + " is damaged: " + k + " is '" + v + "', not a process id");
                }
                pids.put(k.substring(4), pid);
            }
        }
        String seed = p.getProperty("seed", "").trim();
        if (seed.isEmpty()) {
            throw new IllegalArgumentException(f + " is damaged: it names no seed node");
        }
        return new ClusterFile(dir, seed, pids, p.getProperty("http"));
    }

    void write() throws IOException {
        Files.createDirectories(dir);
        Properties p = new Properties();
        p.setProperty("seed", seed);
        if (httpUrl != null) {
            p.setProperty("http", httpUrl);
        }
        pids.forEach((n, pid) -> p.setProperty("pid." + n, Long.toString(pid)));
        try (Writer w = Files.newBufferedWriter(dir.resolve(NAME))) {
            p.store(w, "ferry local cluster");
        }
    }

    void delete() throws IOException {
        Files.deleteIfExists(dir.resolve(NAME));
    }

    /** The seeds to join: {@code --seeds} when given, else this directory's cluster. */
    static List<String> seeds(List<String> given, Path dir) {
        return given != null && !given.isEmpty() ? given : List.of(read(dir).seed());
    }
}
