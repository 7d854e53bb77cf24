package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Page contents a guest might hold, made from a seed: text, tables of pointers and counters, random (already
 * compressed or encrypted) data, and zeros. Compressible about as much as real guest memory.
 */
final class GuestPages {
    static final int PAGE = GuestMemory.PAGE_SIZE;
    private static final String[] WORDS = ("the of and to in is that for it as was with be by on not he this are or"
            + " his from at which but have an they you were her she there been one all we their has would when"
            + " kernel page memory device virtio queue interrupt guest host checkpoint restore").split(" ");

    enum Kind { TEXT, TABLE, RANDOM, ZERO }

    private GuestPages() {}

    /** The kind of page {@code page} gets under {@code seed}: 20% text, 40% tables, 25% random, 15% zero. */
    static Kind kindOf(long seed, long page) {
        int r = Math.floorMod(new SplittableRandom(seed * 31 + page).nextInt(), 100);
        return r < 20 ? Kind.TEXT : r < 60 ? Kind.TABLE : r < 85 ? Kind.RANDOM : Kind.ZERO;
    }

    /** Fills {@code buf} (4 KiB) with a page of {@code kind}. */
    static void fill(byte[] buf, Kind kind, SplittableRandom r) {
        switch (kind) {
            case ZERO -> java.util.Arrays.fill(buf, (byte) 0);
            case RANDOM -> {
                for (int i = 0; i < PAGE; i += 8) {
                    putLong(buf, i, r.nextLong());
                }
            }
            case TABLE -> {
                long base = 0xffff_8880_0000_0000L + ((long) r.nextInt(1 << 20) << 12);
                for (int i = 0; i < PAGE; i += 16) {
                    putLong(buf, i, base + ((long) r.nextInt(4096) << 6));
                    putLong(buf, i + 8, r.nextInt(8) == 0 ? r.nextLong() : r.nextInt(1000));
                }
            }
            case TEXT -> {
                int i = 0;
                while (i < PAGE) {
                    byte[] w = WORDS[r.nextInt(WORDS.length)].getBytes(StandardCharsets.US_ASCII);
                    for (int k = 0; k < w.length && i < PAGE; k++) {
                        buf[i++] = w[k];
                    }
                    if (i < PAGE) {
                        buf[i++] = (byte) (r.nextInt(12) == 0 ? '\n' : ' ');
                    }
                }
            }
        }
    }

    /** Writes page {@code page} of {@code memory} with the contents {@code seed} gives it. */
    static void write(GuestMemory memory, long page, long seed, byte[] scratch) {
        fill(scratch, kindOf(seed, page), new SplittableRandom(seed ^ (page * 0x9E3779B97F4A7C15L)));
        memory.write(memory.gpaOfPage(page), scratch, 0, PAGE);
    }

    private static void putLong(byte[] b, int i, long v) {
        for (int k = 0; k < 8; k++) {
            b[i + k] = (byte) (v >>> (8 * k));
        }
    }
}
