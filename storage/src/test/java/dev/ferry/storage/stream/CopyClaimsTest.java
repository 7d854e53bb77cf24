package dev.ferry.storage.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** How the background copier's threads share out the blocks still to copy. */
class CopyClaimsTest {
    private static void mark(AtomicLongArray local, long b) {
        local.getAndUpdate((int) (b >>> 6), x -> x | 1L << (b & 63));
    }

    private static boolean isLocal(AtomicLongArray local, long b) {
        return (local.get((int) (b >>> 6)) & 1L << (b & 63)) != 0;
    }

    /**
     * Random interleavings of claims, releases (with or without installing the claim) and guest marks: a claim holds
     * only consecutive blocks that were neither local nor held, at most maxRun of them; no block is in two claims at
     * once; a claim is refused only when every block is local or held.
     */
    @Property(tries = 300)
    void claimsAreDisjointRunsOfMissingBlocksAndRefusedOnlyWhenNoneIsFree(
            @ForAll @IntRange(min = 1, max = 300) int blocks, @ForAll @IntRange(min = 1, max = 9) int maxRun,
            @ForAll @LongRange(min = 0) long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        AtomicLongArray local = new AtomicLongArray(BlockBitmap.words(blocks));
        for (int i = 0; i < blocks / 3; i++) {
            mark(local, r.nextInt(blocks));
        }
        CopyClaims claims = new CopyClaims(local, blocks);
        List<CopyClaims.Claim> out = new ArrayList<>();
        BitSet held = new BitSet(blocks);
        for (int step = 0; step < 4 * blocks; step++) {
            int op = r.nextInt(10);
            if (op < 5) {
                CopyClaims.Claim c = claims.claim(maxRun);
                if (c == null) {
                    for (int b = 0; b < blocks; b++) {
                        assertTrue(isLocal(local, b) || held.get(b), "block " + b + " was free, yet no claim");
                    }
                    continue;
                }
                assertTrue(c.count() >= 1 && c.count() <= maxRun && c.first() + c.count() <= blocks, c.toString());
                for (long b = c.first(); b < c.first() + c.count(); b++) {
                    assertFalse(isLocal(local, b), "claimed local block " + b);
                    assertFalse(held.get((int) b), "block " + b + " claimed twice");
                    held.set((int) b);
                }
                out.add(c);
            } else if (op < 9 && !out.isEmpty()) {
                CopyClaims.Claim c = out.remove(r.nextInt(out.size()));
                for (long b = c.first(); b < c.first() + c.count(); b++) {
                    if (r.nextInt(4) != 0) {
                        mark(local, b);   // installed; else its fetch failed and it is given back missing
                    }
                    held.clear((int) b);
                }
                claims.release(c);
            } else {
                mark(local, r.nextInt(blocks));   // a guest read or write made a block local
            }
            assertEquals(held.cardinality(), claims.heldCount());
        }
    }

    @Test
    void claimsGoThroughTheImageInOrderAndComeBackForReleasedBlocks() {
        AtomicLongArray local = new AtomicLongArray(1);
        mark(local, 3);
        CopyClaims claims = new CopyClaims(local, 10);
        CopyClaims.Claim a = claims.claim(4);
        assertEquals(new CopyClaims.Claim(0, 3), a, "a run stops before a local block");
        CopyClaims.Claim b = claims.claim(4);
        assertEquals(new CopyClaims.Claim(4, 4), b);
        claims.release(a);   // its fetch failed: nothing was installed
        assertEquals(new CopyClaims.Claim(8, 2), claims.claim(4), "a run stops at the end of the image");
        assertEquals(new CopyClaims.Claim(0, 3), claims.claim(4), "then wraps round to the released blocks");
        assertNull(claims.claim(4), "every block is local or held");
    }

    /** Several threads claiming, installing and releasing until nothing is left: each block installed exactly once. */
    @Test
    void concurrentCopiersInstallEveryBlockExactlyOnce() throws Exception {
        int blocks = 5000;
        AtomicLongArray local = new AtomicLongArray(BlockBitmap.words(blocks));
        CopyClaims claims = new CopyClaims(local, blocks);
        AtomicIntegerArray installs = new AtomicIntegerArray(blocks);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                CopyClaims.Claim c;
                while ((c = claims.claim(8)) != null) {
                    for (long b = c.first(); b < c.first() + c.count(); b++) {
                        installs.incrementAndGet((int) b);
                        mark(local, b);
                    }
                    claims.release(c);
                }
            });
            th.start();
            threads.add(th);
        }
        go.countDown();
        for (Thread th : threads) {
            th.join(30_000);
        }
        for (int b = 0; b < blocks; b++) {
            assertEquals(1, installs.get(b), "installs of block " + b);
        }
        assertEquals(0, claims.heldCount());
    }
}
