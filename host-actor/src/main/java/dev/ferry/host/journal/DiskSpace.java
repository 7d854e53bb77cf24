package dev.ferry.host.journal;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Free space on the file system of a host's data directory. LevelDB writes its log through a memory map, so a write
 * into a file system with no room left does not fail: the process dies of SIGBUS. Everything that writes there asks
 * first.
 */
public final class DiskSpace {
    private final Path dir;
    private final FileStore store;

    /** The space of the file system that holds {@code dir} (or, while it does not exist yet, its nearest parent). */
    public DiskSpace(Path dir) {
        this.dir = dir;
        Path existing = dir.toAbsolutePath();
        while (!Files.exists(existing)) {
            existing = existing.getParent();
        }
        try {
            this.store = Files.getFileStore(existing);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read the file system of " + dir, e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** Bytes free for this process on the data directory's file system (0 when it cannot be read). */
    public long free() {
        try {
            return store.getUsableSpace();
        } catch (IOException e) {
            return 0;
        }
    }

    /** Why {@code needed} bytes are not free, or null when they are. */
    public String shortOf(long needed) {
        long free = free();
        return free >= needed ? null : "the data disk of " + dir + " is full: " + mib(free) + " free, " + mib(needed)
                + " needed";
    }

    /**
     * Waits, for at most {@code limit}, until {@code needed} bytes are free; throws {@link IOException} naming the
     * shortage when they are not. Returns whether it had to wait.
     */
    public boolean awaitFree(long needed, Duration limit, Runnable onFirstWait) throws IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        boolean told = false;
        String short_;
        while ((short_ = shortOf(needed)) != null) {
            if (System.nanoTime() > deadline) {
                throw new IOException(short_ + " (waited " + limit.toSeconds() + " s)");
            }
            if (!told) {
                onFirstWait.run();
                told = true;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(short_ + " (interrupted while waiting)");
            }
        }
        return told;
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (double) (1 << 20));
    }
}
