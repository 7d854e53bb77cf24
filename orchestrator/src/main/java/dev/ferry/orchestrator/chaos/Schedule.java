package dev.ferry.orchestrator.chaos;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What a chaos run will do and when: a pure function of the options (seed, hosts, instances, duration, faults), so the
 * same seed replays the same schedule. Operations come every 2 to 5 s after the launches; faults are spread over the
 * run, every enabled kind at least once; faults that take a node away (kill, partition) never overlap each other.
 */
public record Schedule(ChaosOptions options, List<Step> steps) {
    /** The instance kept busy enough (a dirtier) that a migration of it has pre-copy rounds a kill can strike in. */
    public static final String GUEST_HEARTBEAT = "heartbeat";
    public static final String GUEST_DIRTIER = "dirtier";
    static final long WARM_UP_MS = 3_000;
    static final long QUIET_END_MS = 5_000;
    static final long FAULTS_FROM_MS = 5_000;
    static final long FAULTS_QUIET_END_MS = 8_000;
    /** A fault every this often on average (at least one of each enabled kind). */
    static final long FAULT_EVERY_MS = 20_000;
    static final long PARTITION_MIN_MS = 20_000;

    public Schedule {
        steps = List.copyOf(steps);
    }

    /** The schedule of {@code o}. */
    public static Schedule plan(ChaosOptions o) {
        SplittableRandom rnd = new SplittableRandom(o.seed());
        long duration = o.duration().toMillis();
        List<String> hosts = o.hostNames();
        List<String> instances = o.instanceNames();
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < instances.size(); i++) {
            steps.add(new Operation.Launch(0, instances.get(i), guestOf(o, instances.get(i))));
        }
        int deploys = 0;
        int maxDeploys = 1 + (int) (duration / 60_000);
        for (long t = WARM_UP_MS + rnd.nextLong(2_000); t < duration - QUIET_END_MS; t += 2_000 + rnd.nextLong(3_000)) {
            String instance = instances.get(rnd.nextInt(instances.size()));
            String host = hosts.get(rnd.nextInt(hosts.size()));
            int pick = rnd.nextInt(100);
            if (pick < 40) {
                steps.add(new Operation.Migrate(t, instance, host));
            } else if (pick < 65) {
                steps.add(new Operation.Checkpoint(t, instance));
            } else if (pick < 82) {
                steps.add(new Operation.Restore(t, instance, rnd.nextBoolean() ? "" : host));
            } else if (deploys < maxDeploys) {
                steps.add(new Operation.Deploy(t, "d" + ++deploys, host));
            } else {
                steps.add(new Operation.Checkpoint(t, instance));
            }
        }
        deploys = planFaults(o, rnd, steps, deploys);
        steps.sort(Comparator.comparingLong(Step::atMillis));
        return new Schedule(o, steps);
    }

    static String guestOf(ChaosOptions o, String instance) {
        return o.instances() >= 2 && instance.equals(busyInstance(o)) ? GUEST_DIRTIER : GUEST_HEARTBEAT;
    }

    /** The instance whose migrations kills strike in: the last one when there are two or more, else the only one. */
    static String busyInstance(ChaosOptions o) {
        return o.instanceNames().get(o.instances() - 1);
    }

    private static int planFaults(ChaosOptions o, SplittableRandom rnd, List<Step> steps, int deploys) {
        if (o.faults().isEmpty()) {
            return deploys;
        }
        long duration = o.duration().toMillis();
        List<FaultKind> enabled = new ArrayList<>(o.faults());
        // Each enabled kind once, in a seeded order, then as many more as the run has room for.
        List<FaultKind> kinds = new ArrayList<>();
        List<FaultKind> pool = new ArrayList<>(enabled);
        while (!pool.isEmpty()) {
            kinds.add(pool.remove(rnd.nextInt(pool.size())));
        }
        long span = Math.max(1, duration - FAULTS_FROM_MS - FAULTS_QUIET_END_MS);
        int count = (int) Math.max(kinds.size(), span / FAULT_EVERY_MS);
        while (kinds.size() < count) {
            kinds.add(enabled.get(rnd.nextInt(enabled.size())));
        }
        long slot = span / count;
        List<String> hosts = o.hostNames();
        List<String> nodes = new ArrayList<>(hosts);
        nodes.add("o1");
        nodes.add("s1");
        long nodeFree = 0;   // when the last fault that took a node away is over
        for (int k = 0; k < count; k++) {
            long at = FAULTS_FROM_MS + k * slot + rnd.nextLong(Math.max(1, slot / 3));
            FaultKind kind = kinds.get(k);
            long room = Math.max(3_000, slot * 2 / 3);
            if ((kind == FaultKind.KILL || kind == FaultKind.PARTITION) && Math.max(at, nodeFree) > duration
                    - FAULTS_QUIET_END_MS) {
                continue;   // the run is over before the node taken by the previous fault is back
            }
            switch (kind) {
                case KILL -> {
                    at = Math.max(at, nodeFree);
                    long restart = 3_000 + rnd.nextLong(Math.max(1, Math.min(7_000, room - 3_000)));
                    int p = rnd.nextInt(100);
                    String busy = busyInstance(o);
                    String to = hosts.get(rnd.nextInt(hosts.size()));
                    Fault.Kill kill;
                    if (p < 50) {
                        kill = new Fault.Kill(at, nodes.get(rnd.nextInt(nodes.size())), Fault.KillPhase.ANY, "", "", restart);
                    } else if (p < 65) {
                        kill = new Fault.Kill(at, "", Fault.KillPhase.MIGRATION_SOURCE, busy, to, restart);
                    } else if (p < 80) {
                        kill = new Fault.Kill(at, "", Fault.KillPhase.MIGRATION_DESTINATION, busy, to, restart);
                    } else {
                        kill = new Fault.Kill(at, "o1", Fault.KillPhase.MID_SAGA, busy, to, restart);
                    }
                    steps.add(kill);
                    nodeFree = at + restart + 10_000;
                }
                case PARTITION -> {
                    // Long enough for the split-brain resolver to decide before the link is back (a cut that heals
                    // while it is deciding leaves every node "indirectly connected", and it downs them all).
                    at = Math.max(at, nodeFree);
                    long length = PARTITION_MIN_MS + rnd.nextLong(15_000);
                    steps.add(new Fault.Partition(at, nodes.get(rnd.nextInt(nodes.size())), length));
                    nodeFree = at + length + 40_000;
                }
                case DELAY -> {
                    String host = hosts.get(rnd.nextInt(hosts.size()));
                    long length = 8_000 + rnd.nextLong(Math.max(1, Math.min(20_000, room)));
                    steps.add(new Fault.Delay(at, host, 50 + rnd.nextLong(350), 1 + rnd.nextInt(10), length));
                    // A deployment onto that host right after, so the slowed link carries its image.
                    steps.add(new Operation.Deploy(at + 500, "d" + ++deploys, host));
                }
                case DISK_FULL -> {
                    String host = hosts.get(rnd.nextInt(hosts.size()));
                    long length = 6_000 + rnd.nextLong(Math.max(1, Math.min(15_000, room)));
                    steps.add(new Fault.DiskFull(at, host, length));
                    // A deployment onto the full host: it must fail cleanly (or wait), never corrupt.
                    steps.add(new Operation.Deploy(at + 1_000, "d" + ++deploys, host));
                }
            }
        }
        return deploys;
    }

    public List<Fault> faults() {
        return steps.stream().filter(s -> s instanceof Fault).map(s -> (Fault) s).toList();
    }

    public List<Operation> operations() {
        return steps.stream().filter(s -> s instanceof Operation).map(s -> (Operation) s).toList();
    }

    /** How many faults of each kind the schedule holds. */
    public Map<FaultKind, Integer> faultCounts() {
        Map<FaultKind, Integer> out = new EnumMap<>(FaultKind.class);
        for (Fault f : faults()) {
            out.merge(f.kind(), 1, Integer::sum);
        }
        return out;
    }

    /** The command that replays this schedule. */
    public String replayCommand() {
        StringBuilder b = new StringBuilder("ferry chaos run --hosts " + options.hosts() + " --instances "
                + options.instances() + " --duration " + options.duration().toSeconds() + "s --seed " + options.seed());
        b.append(" --faults ").append(options.faults().isEmpty() ? "none"
                : String.join(",", options.faults().stream().map(FaultKind::cliName).toList()));
        return b.toString();
    }

    /** The whole schedule, one step a line. */
    public void print(PrintWriter out) {
        out.printf("chaos schedule: seed %d, %d hosts, %d instances, %d s, faults %s: %d operations, %d faults%n",
                options.seed(), options.hosts(), options.instances(), options.duration().toSeconds(),
                options.faults().isEmpty() ? "none" : String.join(",", options.faults().stream().map(FaultKind::cliName).toList()),
                operations().size(), faults().size());
        for (Step s : steps) {
            out.printf(Locale.ROOT, "  %7.1f s  %-5s %s%n", s.atMillis() / 1000.0, s instanceof Fault ? "FAULT" : "op",
                    s.describe());
        }
        out.flush();
    }
}
