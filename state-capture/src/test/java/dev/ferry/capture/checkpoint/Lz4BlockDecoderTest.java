package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class Lz4BlockDecoderTest {
    private static final LZ4Compressor FAST = LZ4Factory.fastestInstance().fastCompressor();
    private static final LZ4Compressor HIGH = LZ4Factory.fastestInstance().highCompressor();

    @Property(tries = 60)
    void decodesWhatLz4JavaCompresses(@ForAll long seed, @ForAll @IntRange(min = 1, max = 64) int pages) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] data = new byte[pages * GuestPages.PAGE];
        byte[] page = new byte[GuestPages.PAGE];
        for (int p = 0; p < pages; p++) {
            GuestPages.fill(page, GuestPages.Kind.values()[r.nextInt(4)], r);
            System.arraycopy(page, 0, data, p * GuestPages.PAGE, GuestPages.PAGE);
        }
        for (LZ4Compressor c : new LZ4Compressor[] {FAST, HIGH}) {
            byte[] packed = c.compress(data);
            byte[] out = new byte[data.length];
            Lz4BlockDecoder.decode(packed, 0, packed.length, out, 0, out.length);
            assertArrayEquals(data, out);
        }
    }

    @Property(tries = 300)
    void refusesGarbageWithoutReachingOutsideItsBuffers(@ForAll @Size(max = 300) byte[] garbage,
                                                       @ForAll @IntRange(min = 0, max = 5000) int expected) {
        byte[] out = new byte[expected + 16];
        try {
            Lz4BlockDecoder.decode(garbage, 0, garbage.length, out, 8, expected);
        } catch (IllegalArgumentException refused) {
            return;
        }
        // Accepted input must have filled exactly the window it was given.
        for (int i = 0; i < 8; i++) {
            if (out[i] != 0 || out[8 + expected + i] != 0) {
                throw new AssertionError("decoder wrote outside its window");
            }
        }
    }

    @Test
    void refusesAMatchBeforeTheStartOfTheOutputAndRunsPastEitherEnd() {
        byte[] out = new byte[64];
        assertThrows(IllegalArgumentException.class,
                () -> Lz4BlockDecoder.decode(new byte[] {0x10, 'a', 2, 0, 0x00}, 0, 5, out, 0, 8));
        assertThrows(IllegalArgumentException.class,
                () -> Lz4BlockDecoder.decode(new byte[] {(byte) 0xF0, (byte) 0xFF, 10, 'a'}, 0, 4, out, 0, 64));
        assertThrows(IllegalArgumentException.class,
                () -> Lz4BlockDecoder.decode(new byte[] {0x4F, 'a', 'b', 'c', 'd', 1, 0, (byte) 0xFF, 0}, 0, 9, out, 0, 64));
        assertThrows(IllegalArgumentException.class,
                () -> Lz4BlockDecoder.decode(new byte[] {0x30, 'a', 'b', 'c'}, 0, 4, out, 0, 4));
    }
}
