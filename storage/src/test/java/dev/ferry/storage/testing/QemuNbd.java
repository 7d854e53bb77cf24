package dev.ferry.storage.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code qemu-nbd} serving one raw image read-only on 127.0.0.1 (a random port), started by a test and reaped by its
 * PID in {@link #close()}.
 */
public final class QemuNbd implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path log;

    private QemuNbd(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Serves {@code image} as export {@code name}; returns once the port accepts connections. */
    public static QemuNbd serve(Path image, String name) throws IOException, InterruptedException {
        Path qemuNbd = ExternalTool.require("qemu-nbd", "qemu-utils");
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port = Images.freePort();
            Path log = image.resolveSibling("qemu-nbd-" + port + ".log");
            Process p = new ProcessBuilder(List.of(qemuNbd.toString(), "--read-only", "--persistent", "-f", "raw",
                    "--bind", "127.0.0.1", "--port", Integer.toString(port), "--export-name", name,
                    "--shared", "8", image.toAbsolutePath().toString()))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            QemuNbd q = new QemuNbd(p, port, log);
            try {
                q.awaitListening();
                return q;
            } catch (IOException e) {
                q.close();
                last = e;
            }
        }
        throw last;
    }

    private void awaitListening() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("qemu-nbd exited with " + process.exitValue() + ": " + output());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new IOException("qemu-nbd did not listen on 127.0.0.1:" + port + " within 10 s: " + output());
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    /** Ends this qemu-nbd (SIGTERM, then SIGKILL) and waits for it. */
    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
