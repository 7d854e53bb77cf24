package dev.ferry.orchestrator.chaos;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a chaos run counted: operations by kind and outcome, faults by kind (planned, injected, skipped), invariant
 * checks by invariant (passed, failed) and the violations themselves. Thread-safe; read by the live table and the
 * final report.
 */
final class Ledger {
    /** Invariants, as the report names them. */
    static final List<String> INVARIANTS = List.of("single-copy", "registry-agrees", "lost-has-checkpoint",
            "vm-behind-journal", "heartbeat-continuity", "disk-records", "settled", "no-orphan-vms", "nothing-leaked");

    record Violation(long atMillis, String invariant, String detail) {}

    static final class OpCount {
        long attempted;
        long ok;
        long failedCleanly;
        long noAnswer;
        final List<String> errors = new ArrayList<>();
    }

    static final class FaultCount {
        long planned;
        long injected;
        long skipped;
    }

    static final class CheckCount {
        long passed;
        long failed;
    }

    private final long startNanos = System.nanoTime();
    private final Map<String, OpCount> ops = new LinkedHashMap<>();
    private final Map<FaultKind, FaultCount> faults = new EnumMap<>(FaultKind.class);
    private final Map<String, CheckCount> checks = new LinkedHashMap<>();
    private final List<Violation> violations = new ArrayList<>();
    private final List<String> faultLog = new ArrayList<>();
    private final List<String> skipped = new ArrayList<>();
    private long rounds;
    private long nodeRestarts;
    private long selfExits;

    Ledger() {
        for (String kind : List.of("launch", "migrate", "checkpoint", "restore", "deploy", "recover")) {
            ops.put(kind, new OpCount());
        }
        for (FaultKind k : FaultKind.values()) {
            faults.put(k, new FaultCount());
        }
        for (String i : INVARIANTS) {
            checks.put(i, new CheckCount());
        }
    }

    long elapsedMillis() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    synchronized void planned(FaultKind k) {
        faults.get(k).planned++;
    }

    synchronized void injected(FaultKind k, String what) {
        faults.get(k).injected++;
        faultLog.add(String.format(java.util.Locale.ROOT, "%7.1f s  %s", elapsedMillis() / 1000.0, what));
    }

    synchronized void faultSkipped(FaultKind k, String why) {
        faults.get(k).skipped++;
        skipped.add(why);
    }

    synchronized void attempted(String kind) {
        ops.get(kind).attempted++;
    }

    synchronized void succeeded(String kind) {
        ops.get(kind).ok++;
    }

    synchronized void failedCleanly(String kind, String error) {
        OpCount c = ops.get(kind);
        c.failedCleanly++;
        remember(c, error);
    }

    synchronized void noAnswer(String kind, String error) {
        OpCount c = ops.get(kind);
        c.noAnswer++;
        remember(c, "no answer: " + error);
    }

    private static void remember(OpCount c, String error) {
        String e = error == null ? "?" : error.length() > 160 ? error.substring(0, 160) + "..." : error;
        if (c.errors.size() < 4 && !c.errors.contains(e)) {
            c.errors.add(e);
        }
    }

    synchronized void passed(String invariant) {
        checks.get(invariant).passed++;
    }

    synchronized void failed(String invariant, String detail) {
        checks.get(invariant).failed++;
        violations.add(new Violation(elapsedMillis(), invariant, detail));
    }

    synchronized void round() {
        rounds++;
    }

    synchronized void restarted() {
        nodeRestarts++;
    }

    synchronized void exitedOnItsOwn() {
        selfExits++;
    }

    synchronized long rounds() {
        return rounds;
    }

    synchronized List<Violation> violations() {
        return List.copyOf(violations);
    }

    synchronized long injectedTotal() {
        return faults.values().stream().mapToLong(f -> f.injected).sum();
    }

    synchronized Map<FaultKind, Long> injectedByKind() {
        Map<FaultKind, Long> out = new EnumMap<>(FaultKind.class);
        faults.forEach((k, v) -> out.put(k, v.injected));
        return out;
    }

    synchronized long opsOk() {
        return ops.values().stream().mapToLong(o -> o.ok).sum();
    }

    synchronized long opsFailed() {
        return ops.values().stream().mapToLong(o -> o.failedCleanly + o.noAnswer).sum();
    }

    synchronized long checksPassed() {
        return checks.values().stream().mapToLong(c -> c.passed).sum();
    }

    synchronized long checksFailed() {
        return checks.values().stream().mapToLong(c -> c.failed).sum();
    }

    synchronized List<String> faultLog() {
        return List.copyOf(faultLog);
    }

    /** The final report, as printed. */
    synchronized String report(Schedule schedule, Map<String, String> finalPlaces, long lostInstances, String outcome) {
        StringBuilder b = new StringBuilder();
        ChaosOptions o = schedule.options();
        b.append("== chaos report: seed ").append(o.seed()).append(", ").append(o.hosts()).append(" hosts, ")
                .append(o.instances()).append(" instances, ").append(o.duration().toSeconds()).append(" s, ")
                .append(String.format(java.util.Locale.ROOT, "%.0f s in all%n", elapsedMillis() / 1000.0));
        b.append(String.format("%-14s %8s %9s %8s%n", "faults", "planned", "injected", "skipped"));
        faults.forEach((k, v) -> b.append(String.format("%-14s %8d %9d %8d%n", k.cliName(), v.planned, v.injected,
                v.skipped)));
        b.append(String.format("node restarts: %d (of which after exiting on their own: %d)%n", nodeRestarts, selfExits));
        b.append(String.format("%-14s %9s %9s %14s %9s%n", "operations", "attempted", "succeeded", "failed-cleanly",
                "no-answer"));
        ops.forEach((k, v) -> b.append(String.format("%-14s %9d %9d %14d %9d%n", k, v.attempted, v.ok, v.failedCleanly,
                v.noAnswer)));
        ops.forEach((k, v) -> v.errors.forEach(e -> b.append("  ").append(k).append(" failed: ").append(e).append('\n')));
        b.append(String.format("%-22s %8s %8s%n", "invariant", "passed", "failed"));
        checks.forEach((k, v) -> b.append(String.format("%-22s %8d %8d%n", k, v.passed, v.failed)));
        b.append("observation rounds: ").append(rounds).append('\n');
        if (!violations.isEmpty()) {
            b.append("VIOLATIONS:\n");
            violations.stream().limit(50).forEach(v -> b.append(String.format(java.util.Locale.ROOT,
                    "  %7.1f s  %s: %s%n", v.atMillis() / 1000.0, v.invariant(), v.detail())));
        }
        if (!skipped.isEmpty()) {
            b.append("faults skipped:\n");
            skipped.stream().limit(20).forEach(s -> b.append("  ").append(s).append('\n'));
        }
        b.append("instances at the end: ").append(new TreeMap<>(finalPlaces)).append('\n');
        b.append("instances lost: ").append(lostInstances).append('\n');
        b.append(outcome).append('\n');
        b.append("replay: ").append(schedule.replayCommand()).append(" (--dry-run prints the schedule)\n");
        return b.toString();
    }

    /** The final report as one line of JSON. */
    synchronized String json(Schedule schedule, long lostInstances, boolean ok) {
        StringBuilder b = new StringBuilder("{\"chaos\":{");
        ChaosOptions o = schedule.options();
        b.append("\"seed\":").append(o.seed()).append(",\"hosts\":").append(o.hosts()).append(",\"instances\":")
                .append(o.instances()).append(",\"duration_s\":").append(o.duration().toSeconds())
                .append(",\"elapsed_s\":").append(elapsedMillis() / 1000).append(",\"faults\":{");
        String sep = "";
        for (var e : faults.entrySet()) {
            b.append(sep).append('"').append(e.getKey().cliName()).append("\":{\"planned\":").append(e.getValue().planned)
                    .append(",\"injected\":").append(e.getValue().injected).append(",\"skipped\":")
                    .append(e.getValue().skipped).append('}');
            sep = ",";
        }
        b.append("},\"node_restarts\":").append(nodeRestarts).append(",\"operations\":{");
        sep = "";
        for (var e : ops.entrySet()) {
            b.append(sep).append('"').append(e.getKey()).append("\":{\"attempted\":").append(e.getValue().attempted)
                    .append(",\"ok\":").append(e.getValue().ok).append(",\"failed_cleanly\":")
                    .append(e.getValue().failedCleanly).append(",\"no_answer\":").append(e.getValue().noAnswer)
                    .append('}');
            sep = ",";
        }
        b.append("},\"invariants\":{");
        sep = "";
        for (var e : checks.entrySet()) {
            b.append(sep).append('"').append(e.getKey()).append("\":{\"passed\":").append(e.getValue().passed)
                    .append(",\"failed\":").append(e.getValue().failed).append('}');
            sep = ",";
        }
        b.append("},\"violations\":").append(violations.size()).append(",\"instances_lost\":").append(lostInstances)
                .append(",\"ok\":").append(ok).append(",\"replay\":\"").append(schedule.replayCommand()).append("\"}}");
        return b.toString();
    }
}
