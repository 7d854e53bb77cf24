package dev.ferry.storage.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;

/** A fixed set of guest writes for a disk of a given size: partial blocks, a whole block, a span, the last bytes. */
final class GuestWrites {
    record Write(long offset, byte[] bytes) {}

    private GuestWrites() {}

    static List<Write> forCapacity(long capacity, int blockSize) {
        SplittableRandom r = new SplittableRandom(capacity);
        return List.of(
                write(r, 0, 512),
                write(r, 5L * blockSize + 100, 3000),
                write(r, capacity / 2, blockSize),
                write(r, capacity * 3 / 8 - 4096, 8192),
                write(r, capacity - 10, 10),
                write(r, 5L * blockSize + 1000, 700));   // overlaps the second: the later one wins
    }

    private static Write write(SplittableRandom r, long offset, int length) {
        byte[] b = new byte[length];
        r.nextBytes(b);
        return new Write(offset, b);
    }

    static void applyTo(StreamingDisk disk, List<Write> writes) throws IOException {
        for (Write w : writes) {
            disk.write(w.offset(), ByteBuffer.wrap(w.bytes()));
        }
    }

    /** {@code source} with the writes applied, in order. */
    static byte[] expected(byte[] source, List<Write> writes) {
        byte[] out = source.clone();
        for (Write w : writes) {
            System.arraycopy(w.bytes(), 0, out, (int) w.offset(), w.bytes().length);
        }
        return out;
    }
}
