package dev.ferry.bench;

import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/** The runs of one side of a scenario and their medians (over the runs that succeeded). */
record MigrationFigures(String side, List<MigrationRun> runs) {
    MigrationFigures {
        runs = List.copyOf(runs);
    }

    boolean allOk() {
        return !runs.isEmpty() && runs.stream().allMatch(MigrationRun::ok);
    }

    String firstError() {
        return runs.stream().filter(r -> !r.ok()).map(MigrationRun::error).findFirst().orElse("none");
    }

    /** Whether the guest went on on the destination in every run. */
    boolean continuity() {
        return allOk() && runs.stream().allMatch(MigrationRun::continuity);
    }

    List<MigrationRun> succeeded() {
        return runs.stream().filter(MigrationRun::ok).toList();
    }

    List<Double> samples(ToDoubleFunction<MigrationRun> f) {
        return succeeded().stream().map(r -> f.applyAsDouble(r)).toList();
    }

    double median(ToDoubleFunction<MigrationRun> f) {
        List<Double> s = samples(f).stream().filter(v -> !v.isNaN()).toList();
        return s.isEmpty() ? Double.NaN : Stats.median(s);
    }

    double totalMs() {
        return median(MigrationRun::totalMs);
    }

    double downtimeMs() {
        return median(MigrationRun::downtimeMs);
    }

    /** Median guest gap over the runs where it was measured; NaN where it never was. */
    double guestGapMs() {
        return median(r -> r.guestGapMs() == null ? Double.NaN : r.guestGapMs());
    }

    double guestGapElsewhereMs() {
        return median(r -> r.guestGapElsewhereMs() == null ? Double.NaN : r.guestGapElsewhereMs());
    }

    List<Double> guestGapSamples() {
        return succeeded().stream().map(MigrationRun::guestGapMs).filter(Objects::nonNull).toList();
    }

    double bytes() {
        return median(r -> r.bytes());
    }

    double rounds() {
        return median(r -> r.rounds());
    }

    double gbps() {
        return median(MigrationRun::gbps);
    }

    /** Median CPU time both sides' processes used during the migration, ms; NaN if not measured. */
    double cpuMs() {
        return median(r -> r.extra().get("cpu_ms") instanceof Number n ? n.doubleValue() : Double.NaN);
    }

    double throttlePercent() {
        return median(MigrationRun::throttlePercent);
    }
}
