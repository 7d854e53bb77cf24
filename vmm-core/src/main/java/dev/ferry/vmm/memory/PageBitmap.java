package dev.ferry.vmm.memory;

import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * One bit per 4 KiB page of guest RAM, in whole-RAM page numbering (page {@code p} lives at byte
 * {@code p * 4096} of the backing mapping; {@link GuestMemory#gpaOfPage} turns it into a guest address).
 */
public final class PageBitmap {
    private final long pages;
    final long[] words;

    public PageBitmap(long pages) {
        if (pages < 0 || (pages + 63) / 64 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bad page count " + pages);
        }
        this.pages = pages;
        this.words = new long[(int) ((pages + 63) / 64)];
    }

    public long pages() {
        return pages;
    }

    public boolean get(long page) {
        return (words[(int) (page >>> 6)] & (1L << page)) != 0;
    }

    public void set(long page) {
        words[(int) (page >>> 6)] |= 1L << page;
    }

    public void clear() {
        Arrays.fill(words, 0);
    }

    /** How many pages are set. */
    public long count() {
        long n = 0;
        for (long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }

    /** Sets every page set in {@code other} (same size). */
    public void or(PageBitmap other) {
        if (other.pages != pages) {
            throw new IllegalArgumentException("bitmaps of " + pages + " and " + other.pages + " pages");
        }
        for (int i = 0; i < words.length; i++) {
            words[i] |= other.words[i];
        }
    }

    /** ORs {@code src} words into this bitmap starting at page {@code firstPage} (a multiple of 64). */
    void orWords(long firstPage, long[] src, int count) {
        int base = (int) (firstPage >>> 6);
        for (int i = 0; i < count; i++) {
            words[base + i] |= src[i];
        }
    }

    /** Calls {@code action} with each set page, in ascending order. */
    public void forEach(LongConsumer action) {
        for (int i = 0; i < words.length; i++) {
            long w = words[i];
            while (w != 0) {
                int bit = Long.numberOfTrailingZeros(w);
                action.accept(((long) i << 6) + bit);
                w &= w - 1;
            }
        }
    }

    public PageBitmap copy() {
        PageBitmap c = new PageBitmap(pages);
        System.arraycopy(words, 0, c.words, 0, words.length);
        return c;
    }
}
