package dev.ferry.bench;

/** Sleeping without a checked exception: an interrupt ends the benchmark. */
final class Threads {
    private Threads() {}

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
