package dev.ferry.vmm.console;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * What the guest prints on its console, assembled into lines. Listeners get each complete line;
 * the most recent {@code keep} lines stay available for inspection.
 */
public final class ConsoleOutput {
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private final List<Consumer<String>> lineListeners = new CopyOnWriteArrayList<>();
    private final List<String> recent = new ArrayList<>();
    private final int keep;
    private long bytes;
    private long lines;

    public ConsoleOutput() {
        this(10_000);
    }

    public ConsoleOutput(int keep) {
        this.keep = keep;
    }

    /** A console for a guest that continues {@code source}'s: it starts inside the line the source was printing. */
    public static ConsoleOutput continuing(ConsoleOutput source) {
        ConsoleOutput c = new ConsoleOutput();
        c.prefill(source.partialLine());
        return c;
    }

    public void onLine(Consumer<String> listener) {
        lineListeners.add(listener);
    }

    /** One byte from the guest; a {@code \n} completes a line ({@code \r} is dropped). */
    public void accept(int b) {
        String line = null;
        synchronized (this) {
            bytes++;
            if (b == '\n') {
                line = partial.toString(StandardCharsets.UTF_8);
                partial.reset();
                lines++;
                recent.add(line);
                if (recent.size() > keep) {
                    recent.remove(0);
                }
                notifyAll();
            } else if (b != '\r') {
                partial.write(b);
            }
        }
        if (line != null) {
            for (Consumer<String> l : lineListeners) {
                l.accept(line);
            }
        }
    }

    /** The last line the guest completed, or empty before its first. */
    public synchronized String lastLine() {
        return recent.isEmpty() ? "" : recent.get(recent.size() - 1);
    }

    /** What the guest has printed of a line it has not finished yet. */
    public synchronized String partialLine() {
        return partial.toString(StandardCharsets.UTF_8);
    }

    /**
     * Starts with {@code text} as the unfinished line, so a guest restored in a new VM completes the line it was
     * printing when it was captured.
     */
    public synchronized void prefill(String text) {
        partial.reset();
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        partial.write(b, 0, b.length);
    }

    public synchronized List<String> recentLines() {
        return List.copyOf(recent);
    }

    public synchronized long byteCount() {
        return bytes;
    }

    public synchronized long lineCount() {
        return lines;
    }

    /** Waits until a line containing {@code text} has been printed; returns it, or null on timeout. */
    public synchronized String awaitLine(String text, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        int scanned = 0;
        long seenLines = lines - recent.size();
        while (true) {
            long firstKept = lines - recent.size();
            for (int i = (int) Math.max(0, seenLines + scanned - firstKept); i < recent.size(); i++) {
                if (recent.get(i).contains(text)) {
                    return recent.get(i);
                }
            }
            scanned = (int) (lines - seenLines);
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            wait(Math.max(1, left / 1_000_000L));
        }
    }
}
