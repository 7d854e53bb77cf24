package dev.ferry.bench;

import java.util.Locale;

/** What Ferry should reach in a migration scenario, judged on the medians of both sides. */
sealed interface MigrationGoal {
    /** The verdict and the numbers behind it. */
    record Verdict(boolean met, String text) {}

    String describe();

    Verdict judge(MigrationFigures ferry, MigrationFigures qemu);

    /** Ferry's total time at most {@code ratio} times QEMU's. */
    record TotalVsQemu(double ratio) implements MigrationGoal {
        @Override
        public String describe() {
            return ratio == 1.0 ? "total time <= QEMU's" : String.format(Locale.ROOT, "total time <= %.2f x QEMU's",
                    ratio);
        }

        @Override
        public Verdict judge(MigrationFigures ferry, MigrationFigures qemu) {
            if (!ferry.allOk() || qemu == null || !qemu.allOk()) {
                return new Verdict(false, "not judged: " + failure(ferry, qemu));
            }
            double r = ferry.totalMs() / qemu.totalMs();
            return new Verdict(r <= ratio, String.format(Locale.ROOT, "Ferry %.0f ms / QEMU %.0f ms = %.2f (goal <= %.2f)",
                    ferry.totalMs(), qemu.totalMs(), r, ratio));
        }
    }

    /** Ferry's downtime at most {@code ms}; with {@code converge}, also without hitting the round limit. */
    record Downtime(double ms, boolean converge) implements MigrationGoal {
        @Override
        public String describe() {
            return (converge ? "converges with downtime <= " : "downtime <= ") + TextReport.number(ms) + " ms";
        }

        @Override
        public Verdict judge(MigrationFigures ferry, MigrationFigures qemu) {
            if (!ferry.allOk()) {
                return new Verdict(false, "not judged: " + failure(ferry, null));
            }
            boolean fits = ferry.downtimeMs() <= ms;
            String text = String.format(Locale.ROOT, "downtime %.1f ms (goal <= %s)", ferry.downtimeMs(),
                    TextReport.number(ms));
            if (!converge) {
                return new Verdict(fits, text);
            }
            long converged = ferry.runs().stream().filter(MigrationRun::converged).count();
            return new Verdict(fits && converged == ferry.runs().size(), text + String.format(Locale.ROOT,
                    ", converged in %d of %d runs (%.0f rounds, throttle %.0f%%)", converged, ferry.runs().size(),
                    ferry.rounds(), ferry.throttlePercent()));
        }
    }

    private static String failure(MigrationFigures ferry, MigrationFigures qemu) {
        if (!ferry.allOk()) {
            return "a Ferry run failed: " + ferry.firstError();
        }
        return qemu == null ? "QEMU was not run (--vs-qemu)" : "a QEMU run failed: " + qemu.firstError();
    }
}
