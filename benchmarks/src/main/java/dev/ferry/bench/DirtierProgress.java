package dev.ferry.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Follows the {@code dirtier} guest's reports ({@code dirtier pages_per_s=<n> mb_per_s=<n> total_pages=<n>}):
 * keeps each interval's rate and lets a caller wait until the guest has written a given number of pages.
 */
final class DirtierProgress implements Consumer<String> {
    private static final String PREFIX = "dirtier";
    private final List<Long> pagesPerSecond = new ArrayList<>();
    private long totalPages;
    private long reports;

    @Override
    public synchronized void accept(String line) {
        if (GuestLine.is(line, PREFIX, "pages_per_s")) {
            pagesPerSecond.add(GuestLine.require(line, "pages_per_s"));
            totalPages = GuestLine.require(line, "total_pages");
            reports++;
            notifyAll();
        }
    }

    /** The rate of each report so far, in pages per second. */
    synchronized List<Long> pagesPerSecond() {
        return List.copyOf(pagesPerSecond);
    }

    /** Pages written by the last report. */
    synchronized long totalPages() {
        return totalPages;
    }

    /** How many rate reports the guest has printed. */
    synchronized long reportCount() {
        return reports;
    }

    /**
     * Waits for the report after the {@code seen}-th and returns the total it gives: every page counted beyond
     * that total was written after this call was made.
     */
    synchronized long awaitNextTotal(long seen, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            while (reports <= seen) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("the dirtier printed no report within " + limit);
                }
                wait(Math.max(1, left / 1_000_000));
            }
            return totalPages;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the dirtier", e);
        }
    }

    /** Waits until a report says at least {@code pages} pages were written; fails after {@code limit}. */
    synchronized void awaitTotal(long pages, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            while (totalPages < pages) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("dirtier reported " + totalPages + " pages written, not "
                            + pages + ", within " + limit);
                }
                wait(Math.max(1, left / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the dirtier", e);
        }
    }

    /** MB/s (10^6 bytes) of each report after the first (which includes first touch), for mode=page. */
    List<Double> steadyMegabytesPerSecond() {
        List<Long> all = pagesPerSecond();
        List<Double> mb = new ArrayList<>();
        for (int i = 1; i < all.size(); i++) {
            mb.add(all.get(i) * 4096.0 / 1e6);
        }
        return mb;
    }
}
