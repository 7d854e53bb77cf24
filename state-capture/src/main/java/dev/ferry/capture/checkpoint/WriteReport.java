package dev.ferry.capture.checkpoint;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A written checkpoint: its file, how many bytes it took, the pages it holds, how many of its memory blocks are LZ4
 * (the others raw), on how many threads they were compressed, how long writing took (including the syncs), and the
 * last line the guest had completed on its console when it was paused (empty when not known).
 */
public record WriteReport(Path file, long fileBytes, MemoryStats memory, long lz4Blocks, int threads,
                          Duration elapsed, String consoleTail) {
    public WriteReport withConsoleTail(String line) {
        return new WriteReport(file, fileBytes, memory, lz4Blocks, threads, elapsed, line);
    }

    /** File bytes written per second, in MiB/s (including the final sync). */
    public double fileMibPerSecond() {
        return perSecond(fileBytes);
    }

    /** Guest bytes captured per second (data pages, before compression), in MiB/s. */
    public double guestMibPerSecond() {
        return perSecond(memory.rawBytes());
    }

    private double perSecond(long bytes) {
        double seconds = Math.max(elapsed.toNanos(), 1) / 1e9;
        return bytes / seconds / (1 << 20);
    }

    @Override
    public String toString() {
        return String.format("%s: %d bytes, %d pages (%d zero) in %d blocks (%d LZ4, %d threads), %.1f ms,"
                        + " %.0f MiB/s to disk, %.0f MiB/s of guest memory", file.getFileName(), fileBytes,
                memory.pages(), memory.zeroPages(), memory.blocks(), lz4Blocks, threads, elapsed.toNanos() / 1e6,
                fileMibPerSecond(), guestMibPerSecond());
    }
}
