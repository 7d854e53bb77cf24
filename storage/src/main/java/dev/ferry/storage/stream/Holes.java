package dev.ferry.storage.stream;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a fetched range into runs of all-zero and not-all-zero granules of {@link #GRANULE} bytes (the file system's
 * block), so a streaming disk writes only the data and leaves the zeros as holes of its sparse file.
 */
final class Holes {
    /** 4 KiB: ext4's and XFS's block, the smallest hole a sparse file can keep. */
    static final int GRANULE = 4096;
    private static final byte[] ZEROS = new byte[GRANULE];

    /** A run of {@code length} bytes at {@code offset} in the array, all zero or each granule of it not. */
    record Run(int offset, int length, boolean zero) {}

    private Holes() {}

    /**
     * The runs of {@code a[off, off + len)}: contiguous, in order, covering the range, alternating between zero and
     * data. Granules are counted from {@code off}; the last may be shorter.
     */
    static List<Run> runs(byte[] a, int off, int len) {
        return runs(a, off, len, g -> false);
    }

    /**
     * As {@link #runs(byte[], int, int)}, where granule {@code i} (counted from {@code off}) is taken as zero without
     * being read when {@code knownZero} says so (the source sent it as a hole; the array holds anything there).
     */
    static List<Run> runs(byte[] a, int off, int len, java.util.function.IntPredicate knownZero) {
        List<Run> runs = new ArrayList<>(4);
        int end = off + len;
        int runStart = off;
        boolean runZero = false;
        for (int g = off; g < end; g += GRANULE) {
            int n = Math.min(GRANULE, end - g);
            boolean zero = knownZero.test((g - off) / GRANULE) || isZero(a, g, n);
            if (g == off) {
                runZero = zero;
            } else if (zero != runZero) {
                runs.add(new Run(runStart, g - runStart, runZero));
                runStart = g;
                runZero = zero;
            }
        }
        if (len > 0) {
            runs.add(new Run(runStart, end - runStart, runZero));
        }
        return runs;
    }

    /** Whether {@code a[off, off + n)} is all zero ({@code n} at most a granule). */
    static boolean isZero(byte[] a, int off, int n) {
        return Arrays.mismatch(a, off, off + n, ZEROS, 0, n) < 0;
    }

    /** Whether {@code a[off, off + len)} is all zero. */
    static boolean allZero(byte[] a, int off, int len) {
        for (int g = off; g < off + len; g += GRANULE) {
            if (!isZero(a, g, Math.min(GRANULE, off + len - g))) {
                return false;
            }
        }
        return true;
    }
}
