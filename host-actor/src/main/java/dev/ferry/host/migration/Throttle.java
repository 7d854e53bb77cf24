package dev.ferry.host.migration;

import dev.ferry.vmm.Vm;

/**
 * Auto-converge: slows a guest that dirties memory faster than the link can carry it, by pausing its vCPUs for a
 * share of every 20 ms period. {@link #stop()} always leaves the guest running.
 */
final class Throttle implements AutoCloseable {
    private static final long PERIOD_NANOS = 20_000_000L;
    private final Vm vm;
    private volatile int percent;
    private volatile boolean running = true;
    private final Thread thread;

    Throttle(Vm vm) {
        this.vm = vm;
        this.thread = new Thread(this::loop, vm.name() + "-throttle");
        thread.setDaemon(true);
        thread.start();
    }

    int percent() {
        return percent;
    }

    void set(int p) {
        percent = Math.max(0, Math.min(95, p));
    }

    private void loop() {
        while (running) {
            int p = percent;
            try {
                if (p == 0) {
                    Thread.sleep(5);
                    continue;
                }
                vm.pause();
                sleepNanos(PERIOD_NANOS * p / 100);
                vm.resume();
                sleepNanos(PERIOD_NANOS * (100 - p) / 100);
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                break;
            }
        }
    }

    private static void sleepNanos(long n) throws InterruptedException {
        Thread.sleep(n / 1_000_000L, (int) (n % 1_000_000L));
    }

    /** Ends throttling; the guest is left running (unless someone else paused it). */
    void stop() {
        running = false;
        thread.interrupt();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (percent > 0 && vm.isRunning()) {
            vm.resume();
        }
    }

    @Override
    public void close() {
        stop();
    }
}
