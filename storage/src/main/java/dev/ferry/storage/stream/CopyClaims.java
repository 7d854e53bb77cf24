package dev.ferry.storage.stream;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Hands the background copier's threads runs of blocks to fetch: each run is blocks that were not local when claimed
 * and that no other thread holds, so several fetches go out at once without two of them fetching the same block. A
 * claim is held until released (after its blocks are installed or its fetch failed). The cursor moves forward and
 * wraps, so the copy goes through the image in order and comes back for blocks released unfinished.
 */
final class CopyClaims {
    /** Blocks {@code [first, first + count)}. */
    record Claim(long first, int count) {}

    private final AtomicLongArray local;
    private final long blocks;
    private final long[] held;
    private long cursor;

    /** {@code local}: the disk's bits of local blocks (read, never written, here). */
    CopyClaims(AtomicLongArray local, long blocks) {
        this.local = local;
        this.blocks = blocks;
        this.held = new long[local.length()];
    }

    /**
     * Up to {@code maxRun} consecutive blocks, from the first after the cursor (wrapping) that is neither local nor
     * held, and as long as the following ones are neither; null if every block is local or held.
     */
    synchronized Claim claim(int maxRun) {
        long b = nextFree(cursor);
        if (b < 0) {
            return null;
        }
        int run = 1;
        while (run < maxRun && b + run < blocks && isFree(b + run)) {
            run++;
        }
        for (long i = b; i < b + run; i++) {
            held[(int) (i >>> 6)] |= 1L << (i & 63);
        }
        cursor = b + run < blocks ? b + run : 0;
        return new Claim(b, run);
    }

    /** Gives the blocks of {@code c} back (those still not local can be claimed again). */
    synchronized void release(Claim c) {
        for (long i = c.first(); i < c.first() + c.count(); i++) {
            held[(int) (i >>> 6)] &= ~(1L << (i & 63));
        }
    }

    /** How many blocks are held now. */
    synchronized long heldCount() {
        long n = 0;
        for (long w : held) {
            n += Long.bitCount(w);
        }
        return n;
    }

    private boolean isFree(long b) {
        int w = (int) (b >>> 6);
        long bit = 1L << (b & 63);
        return ((local.get(w) | held[w]) & bit) == 0;
    }

    private long nextFree(long from) {
        int words = held.length;
        if (words == 0) {
            return -1;
        }
        for (int i = 0; i <= words; i++) {
            int w = (int) (((from >>> 6) + i) % words);
            long free = ~(local.get(w) | held[w]);
            if (i == 0) {
                free &= -1L << (from & 63);
            }
            while (free != 0) {
                long b = ((long) w << 6) + Long.numberOfTrailingZeros(free);
                if (b < blocks) {
                    return b;
                }
                free &= free - 1;
            }
        }
        return -1;
    }
}
