package dev.ferry.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One live migration as measured on one side ({@code ferry} or {@code qemu}). Times in ms; {@code guestGapMs} is null
 * where it was not measured. {@code extra} holds side-specific figures, already named for the JSON output.
 */
record MigrationRun(String side, boolean ok, String error, double totalMs, double downtimeMs, Double guestGapMs,
                    Double guestGapElsewhereMs, long bytes, long rounds, double gbps, boolean continuity,
                    double throttlePercent, boolean converged, Map<String, Object> extra) {
    MigrationRun {
        extra = new LinkedHashMap<>(extra);
    }

    static MigrationRun failed(String side, String error, double totalMs) {
        return new MigrationRun(side, false, error, totalMs, Double.NaN, null, null, 0, 0, Double.NaN, false, 0,
                false, Map.of());
    }
}
