package dev.ferry.storage.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** The zero and data runs a streaming disk writes a fetched block by. */
class HolesTest {
    /**
     * A buffer of {@code granules} granules plus {@code tail} bytes, each granule zero or holding one non-zero byte at
     * a position drawn from {@code seed}; the runs of any window of it cover the window in order, alternate, and say
     * exactly which granules are zero.
     */
    @Property(tries = 300)
    void runsCoverTheRangeAlternateAndTellZeroGranulesFromData(@ForAll @IntRange(min = 0, max = 40) int granules,
                                                              @ForAll @IntRange(min = 0, max = 4095) int tail,
                                                              @ForAll @IntRange(min = 0, max = 64) int off,
                                                              @ForAll @LongRange(min = 0) long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        int len = granules * Holes.GRANULE + tail;
        byte[] a = new byte[off + len + 7];
        a[off + len] = 1;   // past the range: must not count
        if (off > 0) {
            a[off - 1] = 1;   // before the range: must not count
        }
        for (int g = 0; g * Holes.GRANULE < len; g++) {
            if (r.nextInt(3) == 0) {
                int n = Math.min(Holes.GRANULE, len - g * Holes.GRANULE);
                a[off + g * Holes.GRANULE + r.nextInt(n)] = (byte) (1 + r.nextInt(255));
            }
        }
        List<Holes.Run> runs = Holes.runs(a, off, len);
        int at = off;
        Boolean previous = null;
        for (Holes.Run run : runs) {
            assertEquals(at, run.offset(), "runs are contiguous");
            assertTrue(run.length() > 0);
            assertTrue((run.offset() - off) % Holes.GRANULE == 0, "runs start on a granule");
            if (previous != null) {
                assertNotEquals(previous, run.zero(), "runs alternate");
            }
            previous = run.zero();
            for (int g = run.offset(); g < run.offset() + run.length(); g += Holes.GRANULE) {
                int n = Math.min(Holes.GRANULE, run.offset() + run.length() - g);
                boolean zero = true;
                for (int i = g; i < g + n; i++) {
                    zero &= a[i] == 0;
                }
                assertEquals(run.zero(), zero, "granule at " + (g - off));
            }
            at += run.length();
        }
        assertEquals(off + len, at, "the runs end where the range does");
        assertEquals(len == 0, runs.isEmpty());
    }

    @Test
    void aLastByteOfDataMakesItsShortGranuleData() {
        byte[] a = new byte[2 * Holes.GRANULE + 512];
        a[a.length - 1] = 9;
        assertEquals(List.of(new Holes.Run(0, 2 * Holes.GRANULE, true), new Holes.Run(2 * Holes.GRANULE, 512, false)),
                Holes.runs(a, 0, a.length));
        assertTrue(Holes.allZero(a, 0, 2 * Holes.GRANULE));
        assertTrue(!Holes.allZero(a, 0, a.length));
    }
}
