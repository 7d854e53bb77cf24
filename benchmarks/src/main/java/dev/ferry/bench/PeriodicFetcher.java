package dev.ferry.bench;

import dev.ferry.vmm.Vm;
import dev.ferry.vmm.memory.PageBitmap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A host thread that fetches-and-clears a VM's dirty bitmap at a fixed period, as a pre-copy round does
 * (the pages are counted, not copied). Virtualization must be ON. {@link #close()} stops and joins it and
 * rethrows what made it fail.
 */
final class PeriodicFetcher implements AutoCloseable {
    private final Vm vm;
    private final long periodNanos;
    private final Thread thread;
    private volatile boolean stop;
    private volatile RuntimeException failure;
    private long fetches;
    private long pages;
    private long fetchNanos;

    PeriodicFetcher(Vm vm, long periodMillis) {
        this.vm = vm;
        this.periodNanos = TimeUnit.MILLISECONDS.toNanos(periodMillis);
        this.thread = new Thread(this::loop, vm.name() + "-dirty-fetcher");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void loop() {
        PageBitmap bitmap = vm.newPageBitmap();
        long next = System.nanoTime() + periodNanos;
        try {
            while (!stop) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                    continue;
                }
                next += periodNanos;
                long t0 = System.nanoTime();
                long n = vm.fetchDirtyPages(bitmap);
                long t1 = System.nanoTime();
                bitmap.clear();
                synchronized (this) {
                    fetches++;
                    pages += n;
                    fetchNanos += t1 - t0;
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    synchronized long fetches() {
        return fetches;
    }

    synchronized double pagesPerFetch() {
        return fetches == 0 ? 0 : (double) pages / fetches;
    }

    synchronized double millisPerFetch() {
        return fetches == 0 ? 0 : fetchNanos / 1e6 / fetches;
    }

    @Override
    public void close() {
        stop = true;
        LockSupport.unpark(thread);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            throw new IllegalStateException("dirty-bitmap fetcher of " + vm.name() + " did not stop within 10 s");
        }
        if (failure != null) {
            throw new IllegalStateException("fetching the dirty bitmap of " + vm.name() + " failed", failure);
        }
    }
}
