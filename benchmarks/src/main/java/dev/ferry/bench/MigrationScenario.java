package dev.ferry.bench;

import java.util.Locale;

/**
 * One live migration to measure, the same on Ferry and on QEMU: guest RAM, the {@code dirtier}'s working set and
 * rate ({@code mode=word}; a {@code heartbeat} when the working set is 0), Ferry's streams and downtime limit, and
 * the goal Ferry should meet, if any.
 */
record MigrationScenario(String name, long memoryMib, long worksetMib, long dirtyRate, int streams,
                         long downtimeLimitMs, MigrationGoal goal) {
    /** The heartbeat's period, ms: short, so that a gap across the switchover shows with ~1 ms resolution. */
    static final int BEAT_MS = 10;
    /** How often the dirtier reports, ms. */
    static final int REPORT_MS = 100;

    MigrationScenario {
        if (memoryMib <= 0 || worksetMib < 0 || dirtyRate < 0 || streams <= 0 || downtimeLimitMs <= 0) {
            throw new IllegalArgumentException("bad migration scenario: memory " + memoryMib + " MiB, workset "
                    + worksetMib + " MiB, rate " + dirtyRate + ", streams " + streams + ", downtime "
                    + downtimeLimitMs + " ms");
        }
    }

    boolean idle() {
        return worksetMib == 0;
    }

    /** The guest that is migrated. */
    GuestSpec guest() {
        return idle() ? heartbeat(memoryMib)
                : GuestSpec.of("dirtier", memoryMib, "workset", Long.toString(worksetMib), "rate",
                        Long.toString(dirtyRate), "mode", "word", "report_ms", Integer.toString(REPORT_MS));
    }

    /** A heartbeat beating every {@value #BEAT_MS} ms. */
    static GuestSpec heartbeat(long memoryMib) {
        return GuestSpec.of("heartbeat", memoryMib, "interval_ms", Integer.toString(BEAT_MS));
    }

    /** Pages the dirtier writes before its working set is touched once. */
    long worksetPages() {
        return worksetMib << 20 >> 12;
    }

    String describe() {
        return String.format(Locale.ROOT, "%s: %s", name, guest());
    }
}
