package dev.ferry.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders migration scenarios as a text table and as one JSON line per scenario. */
final class MigrateReport {
    /** One scenario's figures on both sides ({@code qemu} is null without --vs-qemu). */
    record Result(MigrationScenario scenario, MigrationFigures ferry, MigrationFigures qemu) {
        MigrationGoal.Verdict verdict() {
            return scenario.goal() == null ? null : scenario.goal().judge(ferry, qemu);
        }
    }

    private static final List<String> NOTES = List.of(
            "each figure is the median of the runs; Ferry and QEMU alternate, driven by one process, on the same host; "
                    + "Ferry's hosts first make one untimed warm-up migration (the first in a fresh JVM takes over 1 s)",
            "total: Ferry, from the source host starting the migration to the destination confirming it resumed the "
                    + "guest (MigrationDone.total_micros); QEMU, query-migrate total-time",
            "downtime: Ferry, from pausing the guest on the source to resuming it on the destination (as the "
                    + "hypervisor saw it); QEMU, query-migrate downtime, measured on the source from stopping the VM "
                    + "until its last state is sent (it does not wait for the destination to start the guest)",
            "guest gap: the guest time lost across the switchover beyond a heartbeat's 10 ms cadence, from its TSC "
                    + "stamps; for a dirtier (which prints no clock), Ferry's figure comes from a 64 MiB heartbeat "
                    + "beside it, migrated the same way right after it, so it shows the switchover of a small guest, "
                    + "not the dirtier's final copy; QEMU's is measured on idle scenarios only",
            "gap elsewhere: the largest such gap between consecutive beats in the second before the migration: "
                    + "the noise of this shared host",
            "rounds: Ferry, pre-copy rounds plus stop-and-copy; QEMU, dirty-sync-count",
            "CPU: user + system time of both hosts' processes during the migration (Ferry's two host JVMs, QEMU's "
                    + "two processes), the guest's vCPU included",
            "QEMU: max-bandwidth " + QemuMigration.MAX_BANDWIDTH + " B/s (no limit in practice), its default "
                    + "downtime limit; it has no device behind the IDLE_US port, so its guests spin while idle "
                    + "(one vCPU busy), where Ferry's park");

    private MigrateReport() {}

    static String table(Map<String, String> host, List<Result> results) {
        int runs = results.stream().mapToInt(r -> r.ferry().runs().size()).max().orElse(0);
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "Ferry live migration%s, on 127.0.0.1, in one run (median of %d run%s each)%n",
                results.stream().anyMatch(r -> r.qemu() != null) ? " beside QEMU/KVM on the same guest binary" : "",
                runs, runs == 1 ? "" : "s"));
        host.forEach((k, v) -> out.append(String.format(Locale.ROOT, "  %-8s %s%n", k + ":", v)));
        String row = "%-14s %-6s %10s %11s %9s %9s %9s %7s %7s %6s %7s %-5s%n";
        out.append('\n').append(String.format(Locale.ROOT, row, "scenario", "side", "total ms", "downtime ms",
                "gap ms", "gap else", "MB sent", "rounds", "Gbit/s", "thr %", "CPU s", "cont"));
        for (Result r : results) {
            out.append(String.format(Locale.ROOT, "%s (%s MiB RAM, %s)%n", r.scenario().name(),
                    r.scenario().memoryMib(), r.scenario().idle() ? "heartbeat, idle"
                            : String.format(Locale.ROOT, "dirtier %d MiB at %d pages/s", r.scenario().worksetMib(),
                            r.scenario().dirtyRate())));
            for (MigrationFigures f : r.qemu() == null ? List.of(r.ferry()) : List.of(r.ferry(), r.qemu())) {
                String side = f.side().equals("ferry") ? "Ferry" : "QEMU";
                if (f.succeeded().isEmpty()) {
                    out.append(String.format(Locale.ROOT, "%-14s %-6s failed: %s%n", "", side, f.firstError()));
                    continue;
                }
                out.append(String.format(Locale.ROOT, row, "", side, num(f.totalMs()), num(f.downtimeMs()),
                        num(f.guestGapMs()), num(f.guestGapElsewhereMs()), num(f.bytes() / 1e6), num(f.rounds()),
                        num(f.gbps()), num(f.throttlePercent()), num(f.cpuMs() / 1e3), f.continuity() ? "yes" : "NO"));
                if (!f.allOk()) {
                    out.append(String.format(Locale.ROOT, "%-14s %-6s %d of %d runs failed: %s%n", "", "",
                            f.runs().size() - f.succeeded().size(), f.runs().size(), f.firstError()));
                }
            }
            if (r.qemu() != null && r.ferry().allOk() && r.qemu().allOk()) {
                out.append(String.format(Locale.ROOT, "%-14s Ferry/QEMU: total %s, downtime %s%n", "",
                        num(r.ferry().totalMs() / r.qemu().totalMs()),
                        num(r.ferry().downtimeMs() / r.qemu().downtimeMs())));
            }
            MigrationGoal.Verdict v = r.verdict();
            if (v != null) {
                out.append(String.format(Locale.ROOT, "%-14s goal %s: %s, %s%n", "", r.scenario().goal().describe(),
                        v.met() ? "met" : "MISSED", v.text()));
            }
        }
        out.append('\n');
        for (String note : NOTES) {
            out.append("  - ").append(note).append('\n');
        }
        return out.toString();
    }

    static String json(Map<String, String> host, Result r) {
        MigrationScenario s = r.scenario();
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("scenario", s.name());
        root.put("guest", s.guest().toString());
        root.put("memory_mib", s.memoryMib());
        root.put("workset_mib", s.worksetMib());
        root.put("dirty_rate", s.dirtyRate());
        root.put("streams", s.streams());
        root.put("downtime_limit_ms", s.downtimeLimitMs());
        root.put("runs", r.ferry().runs().size());
        root.putAll(side(r.ferry()));
        if (r.qemu() != null) {
            root.put("qemu", side(r.qemu()));
            root.put("ratio_total", r.ferry().totalMs() / r.qemu().totalMs());
            root.put("ratio_downtime", r.ferry().downtimeMs() / r.qemu().downtimeMs());
        }
        MigrationGoal.Verdict v = r.verdict();
        if (v != null) {
            Map<String, Object> goal = new LinkedHashMap<>();
            goal.put("what", s.goal().describe());
            goal.put("met", v.met());
            goal.put("detail", v.text());
            root.put("goal", goal);
        }
        root.put("host", host);
        StringBuilder out = new StringBuilder();
        JsonReport.write(out, root);
        return out.toString();
    }

    private static Map<String, Object> side(MigrationFigures f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", f.allOk());
        m.put("total_ms", f.totalMs());
        m.put("downtime_ms", f.downtimeMs());
        m.put("guest_gap_ms", nullIfNaN(f.guestGapMs()));
        m.put("guest_gap_elsewhere_ms", nullIfNaN(f.guestGapElsewhereMs()));
        m.put("bytes", (long) f.bytes());
        m.put("rounds", f.rounds());
        m.put("gbps", f.gbps());
        m.put("continuity", f.continuity());
        m.put("throttle_percent", f.throttlePercent());
        m.put("cpu_ms", nullIfNaN(f.cpuMs()));
        m.put("converged", f.allOk() && f.runs().stream().allMatch(MigrationRun::converged));
        Map<String, Object> samples = new LinkedHashMap<>();
        samples.put("total_ms", f.samples(MigrationRun::totalMs));
        samples.put("downtime_ms", f.samples(MigrationRun::downtimeMs));
        samples.put("guest_gap_ms", f.guestGapSamples());
        m.put("samples", samples);
        List<Map<String, Object>> runs = new ArrayList<>();
        for (MigrationRun run : f.runs()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("ok", run.ok());
            if (!run.ok()) {
                one.put("error", run.error());
            } else {
                one.put("rounds", run.rounds());
                one.put("bytes", run.bytes());
                one.put("gbps", run.gbps());
                one.putAll(run.extra());
            }
            runs.add(one);
        }
        m.put("run_details", runs);
        return m;
    }

    private static Object nullIfNaN(double v) {
        return Double.isNaN(v) ? null : v;
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "-" : TextReport.number(v);
    }
}
