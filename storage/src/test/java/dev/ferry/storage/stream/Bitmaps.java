package dev.ferry.storage.stream;

import java.io.IOException;
import java.nio.file.Path;

/** What a streaming disk's stored bitmap says, read before the disk is opened (its copier starts at once). */
final class Bitmaps {
    private Bitmaps() {}

    /** The blocks the bitmap of {@code image} marks local. */
    static long storedLocal(Path image, int blockSize, long capacity, String source) throws IOException {
        try (BlockBitmap b = BlockBitmap.open(StreamingDisk.bitmapOf(image), blockSize, capacity, source)) {
            long n = 0;
            for (long w : b.load()) {
                n += Long.bitCount(w);
            }
            return n;
        }
    }
}
