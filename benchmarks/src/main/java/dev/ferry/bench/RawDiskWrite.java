package dev.ferry.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The disk's raw sequential write bandwidth, measured the way a checkpoint file is written: a temporary file in the
 * directory, written through one large direct buffer, fsync, rename over the target, fsync of the directory. The
 * bytes are the {@code dirtier} guest's page pattern (each 4 KiB page one repeated 64-bit counter); the file system
 * stores them as they are.
 */
final class RawDiskWrite {
    static final int BUFFER_BYTES = 8 << 20;
    private static final int PAGE = 4096;

    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);

    RawDiskWrite() {
        for (int page = 0; page < BUFFER_BYTES / PAGE; page++) {
            for (int w = 0; w < PAGE; w += Long.BYTES) {
                buffer.putLong(page * PAGE + w, 1 + page);
            }
        }
    }

    /** Writes {@code bytes} (a multiple of the buffer) to {@code target} durably, deletes it, and returns MiB/s. */
    double measure(Path target, long bytes) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path temp = dir.resolve("." + target.getFileName() + ".tmp");
        long t0 = System.nanoTime();
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (long written = 0; written < bytes; written += BUFFER_BYTES) {
                    buffer.clear();
                    while (buffer.hasRemaining()) {
                        out.write(buffer);
                    }
                }
                out.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            long nanos = System.nanoTime() - t0;
            return bytes / (nanos / 1e9) / (1 << 20);
        } finally {
            Files.deleteIfExists(temp);
            Files.deleteIfExists(target);
        }
    }
}
