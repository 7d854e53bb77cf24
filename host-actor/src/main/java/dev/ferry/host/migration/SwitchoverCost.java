package dev.ferry.host.migration;

/**
 * What a switchover costs on this host besides copying the last pages (capturing the state, the destination's
 * restore, the commit and the messages between the hosts), learned from the migrations this host committed: the
 * stop-and-copy decision leaves room for it. It differs a lot between an idle host and a busy one, so it is measured
 * rather than assumed; it starts at {@link #INITIAL_MICROS}.
 */
public final class SwitchoverCost {
    static final long INITIAL_MICROS = 15_000;
    private double estimateMicros = INITIAL_MICROS;

    /** The current estimate. */
    public synchronized long estimateMicros() {
        return Math.round(estimateMicros);
    }

    /**
     * Learns from one committed switchover: {@code downtimeMicros} in all, of which sending {@code finalPages} pages
     * at {@code bytesPerSecond} took its share. Each observation weighs half, so the estimate follows the host's load.
     */
    public synchronized void observe(long downtimeMicros, long finalPages, double bytesPerSecond) {
        if (downtimeMicros <= 0) {
            return;
        }
        double copy = bytesPerSecond > 0 ? finalPages * 4096.0 / bytesPerSecond * 1e6 : 0;
        double fixed = Math.max(0, downtimeMicros - copy);
        estimateMicros = (estimateMicros + fixed) / 2;
    }

    /**
     * The part of a downtime limit the last pages may use: what the fixed cost leaves of four fifths of the limit
     * (the rest is a margin for a busy host: another short round costs little, a missed limit is the guest's time),
     * but never less than a quarter of the limit (a host slower than the limit still converges to a small final copy
     * instead of never stopping).
     */
    public long copyBudgetMicros(long downtimeLimitMicros) {
        return Math.max(downtimeLimitMicros / 4, downtimeLimitMicros * 4 / 5 - estimateMicros());
    }
}
