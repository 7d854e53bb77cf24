package dev.ferry.orchestrator.chaos;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Small tmpfs file systems mounted as hosts' data directories, which a disk-full fault fills with one file and empties
 * again. {@link #close()} removes the fillers and unmounts every file system mounted here (also from a shutdown hook).
 */
final class DiskFiller implements AutoCloseable {
    static final String FILLER = ".chaos-filler";
    private final List<Path> mounted = new ArrayList<>();

    /** Mounts a tmpfs of {@code mib} MiB at {@code dir} (created if missing; must be empty). */
    synchronized void mount(Path dir, int mib) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        run(List.of("mount", "-t", "tmpfs", "-o", "size=" + mib + "m,mode=0755", "tmpfs", dir.toString()));
        mounted.add(dir);
    }

    /** Fills the file system of {@code dir} to the last byte; returns how many bytes the filler took. */
    long fill(Path dir) throws IOException {
        Path f = dir.resolve(FILLER);
        long written = 0;
        byte[] big = new byte[1 << 20];
        byte[] small = new byte[4096];
        try (OutputStream out = Files.newOutputStream(f)) {
            for (byte[] chunk : List.of(big, small)) {
                try {
                    while (true) {
                        out.write(chunk);
                        out.flush();
                        written += chunk.length;
                    }
                } catch (IOException full) {
                    // no room for one more chunk of this size: try a smaller one, then stop
                }
            }
        } catch (IOException closingFull) {
            // closing flushes nothing more; the file holds what fitted
        }
        return written;
    }

    /** Empties the file system of {@code dir} again. */
    void clear(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve(FILLER));
    }

    /** Whether a file system is still mounted at {@code dir}. */
    static boolean isMounted(Path dir) throws IOException {
        String target = " " + dir.toAbsolutePath().normalize() + " ";
        return Files.readString(Path.of("/proc/self/mounts")).lines().anyMatch(l -> l.contains(target));
    }

    /** The mount points under {@code root} (left by an earlier run killed before it could unmount them). */
    static List<Path> mountsUnder(Path root) throws IOException {
        String prefix = root.toAbsolutePath().normalize() + "/";
        List<Path> out = new ArrayList<>();
        for (String l : Files.readString(Path.of("/proc/self/mounts")).lines().toList()) {
            String[] f = l.split(" ");
            if (f.length > 2 && f[1].startsWith(prefix)) {
                out.add(Path.of(f[1]));
            }
        }
        return out;
    }

    synchronized List<Path> mounted() {
        return List.copyOf(mounted);
    }

    static void unmount(Path dir) throws IOException, InterruptedException {
        try {
            run(List.of("umount", dir.toString()));
        } catch (IOException busy) {
            run(List.of("umount", "-l", dir.toString()));
        }
    }

    @Override
    public synchronized void close() {
        for (Path dir : mounted) {
            try {
                clear(dir);
                unmount(dir);
            } catch (IOException e) {
                System.err.println("ferry chaos: cannot unmount " + dir + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        mounted.clear();
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("`" + String.join(" ", command) + "` did not end within 30 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException("`" + String.join(" ", command) + "` failed (exit " + p.exitValue() + "): " + out);
        }
    }
}
