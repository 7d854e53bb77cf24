package dev.ferry.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The C reference VMM ({@code benchmarks/native/refvmm}) as a child process: runs one guest to its end and hands
 * each console line to a listener. Guest images come from the class path, extracted to temporary files that
 * {@link #close()} deletes. Every process it forks is reaped before {@link #run} returns.
 */
final class RefVmm implements AutoCloseable {
    static final String PATH_PROPERTY = "ferry.refvmm";
    private static final String GUEST_RESOURCES = "dev/ferry/guests/";

    private final Path binary;
    private final Map<String, Path> images = new HashMap<>();

    /** How a run ended: refvmm's exit status (the guest's exit code, or 124/125/126) and its stderr. */
    record Outcome(GuestSpec guest, int status, List<String> lines, String stderr) {
        /** Fails, quoting refvmm's report, unless the guest exited with code 0. */
        Outcome requireSuccess() {
            if (status != 0) {
                throw new IllegalStateException("refvmm running " + guest + " ended with status " + status
                        + " (124 = time limit, 125 = VMM error, 126 = guest died): " + stderr);
            }
            return this;
        }
    }

    private RefVmm(Path binary) {
        this.binary = binary;
    }

    /** Finds refvmm: {@code -Dferry.refvmm=PATH}, else {@code native/refvmm} beside this program's jar. */
    static RefVmm locate() {
        String configured = System.getProperty(PATH_PROPERTY);
        Path p = configured != null ? Path.of(configured) : besideJar().resolve("native").resolve("refvmm");
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException("no executable reference VMM at " + p + ": build it with "
                    + "`mvn -pl benchmarks package` (it lands in benchmarks/target/native/refvmm) or pass -D"
                    + PATH_PROPERTY + "=PATH");
        }
        return new RefVmm(p);
    }

    /** The directory holding this program's jar (or its classes directory): {@code benchmarks/target}. */
    static Path besideJar() {
        try {
            Path code = Path.of(RefVmm.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return code.toAbsolutePath().getParent();
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            throw new IllegalStateException("cannot tell where this program's jar is; pass -D" + PATH_PROPERTY
                    + "=PATH", e);
        }
    }

    Path binary() {
        return binary;
    }

    /**
     * Runs {@code guest} until it exits, giving each console line to {@code onLine} as it arrives; refvmm
     * stops it with status 124 after {@code limit}.
     */
    Outcome run(GuestSpec guest, Duration limit, Consumer<String> onLine) {
        List<String> cmd = List.of(binary.toString(), "-m", Long.toString(guest.ramMib()), "-g",
                image(guest.name()).toString(), "-a", guest.argString(), "-t",
                Double.toString(limit.toMillis() / 1000.0));
        Process p;
        try {
            p = new ProcessBuilder(cmd).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", cmd), e);
        }
        List<String> lines = new ArrayList<>();
        StringBuilder err = new StringBuilder();
        Thread out = drain(p.getInputStream(), line -> {
            synchronized (lines) {
                lines.add(line);
            }
            onLine.accept(line);
        }, "refvmm-stdout");
        Thread errThread = drain(p.getErrorStream(), line -> {
            synchronized (err) {
                err.append(line).append('\n');
            }
        }, "refvmm-stderr");
        try {
            // refvmm enforces -t itself (status 124); the extra margin only guards against a hung process.
            if (!p.waitFor(limit.toMillis() + 10_000, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("refvmm running " + guest + " did not end within " + limit
                        + " plus 10 s; killed it");
            }
            out.join(5_000);
            errThread.join(5_000);
            synchronized (lines) {
                synchronized (err) {
                    return new Outcome(guest, p.exitValue(), List.copyOf(lines), err.toString().strip());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while refvmm ran " + guest, e);
        } finally {
            reap(p);
        }
    }

    private static void reap(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static Thread drain(InputStream in, Consumer<String> sink, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    sink.accept(line);
                }
            } catch (IOException e) {
                sink.accept("(stream closed: " + e.getMessage() + ")");
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The guest image for refvmm: the class-path resource copied once to a temporary file. */
    private synchronized Path image(String guest) {
        Path p = images.get(guest);
        if (p != null) {
            return p;
        }
        String resource = GUEST_RESOURCES + guest + ".bin";
        try (InputStream in = RefVmm.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("guest image " + resource + " is not on the class path "
                        + "(it comes from the ferry-guests jar)");
            }
            p = Files.createTempFile("ferry-bench-" + guest + "-", ".bin");
            Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract guest image " + resource, e);
        }
        images.put(guest, p);
        return p;
    }

    @Override
    public synchronized void close() {
        for (Path p : images.values()) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                System.err.println("warning: cannot delete temporary guest image " + p + ": " + e.getMessage());
            }
        }
        images.clear();
    }
}
