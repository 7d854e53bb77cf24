package dev.ferry.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One QEMU process: its console (stdout, {@code -serial stdio}) goes line by line to a listener, the last lines of
 * its stderr are kept for error messages. {@link #close()} ends it (SIGTERM, then SIGKILL) and reaps it.
 */
final class QemuProcess implements AutoCloseable {
    private static final int KEEP_ERR = 20;
    private final String role;
    private final Process process;
    private final Thread out;
    private final Thread err;
    private final Deque<String> stderr = new ArrayDeque<>();

    private QemuProcess(String role, List<String> command, Consumer<String> onLine) {
        this.role = role;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start QEMU (" + role + "): " + String.join(" ", command), e);
        }
        out = drain(process.getInputStream(), onLine, "qemu-" + role + "-stdout");
        err = drain(process.getErrorStream(), line -> {
            synchronized (stderr) {
                stderr.addLast(line);
                if (stderr.size() > KEEP_ERR) {
                    stderr.removeFirst();
                }
            }
        }, "qemu-" + role + "-stderr");
    }

    static QemuProcess start(String role, List<String> command, Consumer<String> onLine) {
        return new QemuProcess(role, command, onLine);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** CPU time (user + system) QEMU has used so far: its vCPU and its migration thread alike. */
    long cpuMillis() {
        return process.toHandle().info().totalCpuDuration().map(java.time.Duration::toMillis).orElse(0L);
    }

    /** What QEMU last said on stderr, and its exit status if it ended. */
    String describe() {
        synchronized (stderr) {
            return "QEMU (" + role + ", pid " + process.pid() + ")" + (process.isAlive() ? "" : " exited with "
                    + process.exitValue()) + (stderr.isEmpty() ? "" : ": " + String.join(" | ", stderr));
        }
    }

    private static Thread drain(InputStream in, Consumer<String> onLine, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    onLine.accept(line);
                }
            } catch (IOException e) {
                // the process ended and closed its pipe: nothing more to read
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
        out.join(5_000);
        err.join(5_000);
    }
}
