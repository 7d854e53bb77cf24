package dev.ferry.orchestrator.chaos;

import dev.ferry.host.local.HostProcess;
import dev.ferry.host.local.NetworkNamespace;
import dev.ferry.orchestrator.OrchestratorClient;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.LaunchReply;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One chaos run: starts the cluster, plays the schedule (operations on two threads, faults on their own), observes
 * every few seconds, then undoes every fault, lets the cluster settle (bringing lost instances back from their
 * checkpoints), checks once more, stops everything and checks that nothing was left behind.
 */
public final class ChaosRun {
    static final long OBSERVE_EVERY_MS = 3_000;
    static final long TABLE_EVERY_MS = 10_000;
    static final long SETTLE_MS = 150_000;

    /** How a run ended. */
    public record Result(int exitCode, List<Ledger.Violation> violations, Map<FaultKind, Long> injected, long opsOk,
                         long opsFailed, long checksPassed, String report, String json) {}

    private final ChaosOptions options;
    private final PrintWriter out;
    private final Schedule schedule;
    private final Ledger ledger = new Ledger();
    private final Instances instances = new Instances();
    private final Set<String> recovering = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> lostSince = new ConcurrentHashMap<>();
    private boolean strayWanted;
    private volatile String strayInstance = "";

    public ChaosRun(ChaosOptions options, PrintWriter out) {
        this.options = options;
        this.out = out;
        this.schedule = Schedule.plan(options);
    }

    public Schedule schedule() {
        return schedule;
    }

    /**
     * Also starts, once the cluster has settled at the end, a second copy of a running heartbeat instance directly on a
     * host other than its own, bypassing the orchestrator, and observes at once: a violation the checker must report.
     */
    public ChaosRun plantStrayCopy() {
        this.strayWanted = true;
        return this;
    }

    /** The instance a stray copy was planted of ({@link #plantStrayCopy()}), empty if none was. */
    public String strayInstance() {
        return strayInstance;
    }

    private synchronized void say(String line) {
        out.printf(Locale.ROOT, "[%6.1f s] %s%n", ledger.elapsedMillis() / 1000.0, line);
        out.flush();
    }

    public Result run() throws Exception {
        schedule.print(out);
        schedule.faults().forEach(f -> ledger.planned(f.kind()));
        ChaosCluster cluster = new ChaosCluster(options);
        ExecutorService ops = Executors.newFixedThreadPool(2, r -> daemon(r, "chaos-op"));
        ExecutorService faults = Executors.newFixedThreadPool(2, r -> daemon(r, "chaos-fault"));
        ExecutorService recoveries = Executors.newSingleThreadExecutor(r -> daemon(r, "chaos-recover"));
        ScheduledExecutorService periodic = Executors.newScheduledThreadPool(3, r -> daemon(r, "chaos-observe"));
        FaultInjector injector = null;
        InvariantChecker checker = null;
        Map<String, String> places = new HashMap<>();
        long lost = 0;
        String outcome;
        try {
            say("starting the cluster in " + cluster.dir());
            cluster.start(this::say);
            OrchestratorClient orch = new OrchestratorClient(cluster.client());
            orch.gateway(Duration.ofSeconds(90));
            cluster.client().awaitHosts(options.hosts(), Duration.ofSeconds(90));
            Probe probe = new Probe(cluster.client());
            Operator operator = new Operator(cluster, orch, instances, ledger, probe, options.hostNames());
            injector = new FaultInjector(cluster, operator, orch, ledger, this::say);
            checker = new InvariantChecker(orch, probe, instances, ledger);
            FaultInjector inj = injector;
            InvariantChecker chk = checker;
            say("cluster up; playing the schedule for " + options.duration().toSeconds() + " s");
            long t0 = System.nanoTime();
            injector.endsAt(t0 + options.duration().toNanos());
            periodic.scheduleWithFixedDelay(() -> quietly(() -> chk.round(false)), OBSERVE_EVERY_MS, OBSERVE_EVERY_MS,
                    TimeUnit.MILLISECONDS);
            periodic.scheduleWithFixedDelay(() -> quietly(inj::watch), 2_000, 2_000, TimeUnit.MILLISECONDS);
            periodic.scheduleWithFixedDelay(() -> quietly(() -> {
                LiveTable.print(out, ledger.elapsedMillis(), ledger, instances, chk.lastStatus(), chk.lastLists(),
                        inj.away());
                recoverLost(chk.lastStatus(), operator, recoveries);
            }), TABLE_EVERY_MS, TABLE_EVERY_MS, TimeUnit.MILLISECONDS);
            for (Step s : schedule.steps()) {
                sleepUntil(t0, s.atMillis());
                if (s instanceof Operation op) {
                    ops.execute(() -> operator.run(op));
                } else if (s instanceof Fault f) {
                    faults.execute(() -> inj.inject(f));
                }
            }
            sleepUntil(t0, options.duration().toMillis());
            say("schedule played; waiting for operations in flight, then undoing every fault");
            ops.shutdown();
            faults.shutdown();
            recoveries.shutdown();
            ops.awaitTermination(120, TimeUnit.SECONDS);
            recoveries.awaitTermination(60, TimeUnit.SECONDS);
            faults.awaitTermination(120, TimeUnit.SECONDS);
            periodic.shutdownNow();
            periodic.awaitTermination(60, TimeUnit.SECONDS);
            if (!injector.healAll()) {
                say("not every node came back within 180 s");
            }
            settle(orch, operator, probe);
            if (strayWanted) {
                plantStray(cluster, checker);
            }
            checker.round(true);
            ClusterStatus end = checker.lastStatus();
            finalChecks(end, checker.lastLists());
            if (end != null) {
                for (RegisteredInstance r : end.getInstancesList()) {
                    places.put(r.getInstanceId(), r.getState().equals("RUNNING") ? r.getHost() + "@" + r.getEpoch()
                            : r.getState() + (r.getState().equals("LOST") ? " (" + r.getLostReason() + ")" : ""));
                    if (r.getState().equals("LOST")) {
                        lost++;
                    }
                }
            }
        } finally {
            ops.shutdownNow();
            faults.shutdownNow();
            recoveries.shutdownNow();
            periodic.shutdownNow();
            if (injector != null) {
                injector.close();
            }
            say("stopping every node (logs stay in " + cluster.dir() + ")");
            cluster.close();
        }
        leakChecks(cluster);
        boolean ok = ledger.violations().isEmpty();
        outcome = ok ? "RESULT: no invariant violated" : "RESULT: " + ledger.violations().size()
                + " invariant violation(s)";
        String report = ledger.report(schedule, places, lost, outcome);
        String json = ledger.json(schedule, lost, ok);
        Files.writeString(cluster.dir().resolve("report.txt"), report + json + "\n");
        return new Result(ok ? 0 : 1, ledger.violations(), ledger.injectedByKind(), ledger.opsOk(), ledger.opsFailed(),
                ledger.checksPassed(), report, json);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private void quietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            say("observer: " + e);
        }
    }

    private static void sleepUntil(long t0, long atMillis) throws InterruptedException {
        long wait = atMillis - (System.nanoTime() - t0) / 1_000_000;
        if (wait > 0) {
            Thread.sleep(wait);
        }
    }

    /** Instances lost for 10 s with a checkpoint to restore from are brought back, as an operator would. */
    private void recoverLost(ClusterStatus status, Operator operator, ExecutorService ops) {
        if (status == null) {
            return;
        }
        long now = ledger.elapsedMillis();
        for (RegisteredInstance r : status.getInstancesList()) {
            String id = r.getInstanceId();
            if (!r.getState().equals("LOST") || r.getLastCheckpoint().isEmpty()) {
                lostSince.remove(id);
                continue;
            }
            long since = lostSince.computeIfAbsent(id, k -> now);
            if (now - since >= 10_000 && recovering.add(id)) {
                try {
                    ops.execute(() -> {
                        try {
                            operator.recover(id);
                        } finally {
                            recovering.remove(id);
                            lostSince.remove(id);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException ending) {
                    recovering.remove(id);
                }
            }
        }
    }

    /**
     * The reconciler fences a stray copy within seconds (every 3 s it compares); one that was gone before the checker
     * looked is planted again, at most three times.
     */
    private void plantStray(ChaosCluster cluster, InvariantChecker checker) {
        try {
            ClusterStatus status = new OrchestratorClient(cluster.client()).status();
            RegisteredInstance r = status.getInstancesList().stream()
                    .filter(i -> i.getState().equals("RUNNING") && i.getGuest().equals(Schedule.GUEST_HEARTBEAT))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no heartbeat instance runs"));
            String other = options.hostNames().stream().filter(h -> !h.equals(r.getHost())).findFirst().orElseThrow();
            var agent = cluster.client().awaitHosts(options.hosts(), Duration.ofSeconds(30)).get(other);
            strayInstance = r.getInstanceId();
            for (int attempt = 1; attempt <= 3; attempt++) {
                long caught = ledger.violations().stream().filter(v -> v.invariant().equals("single-copy")).count();
                LaunchReply reply = cluster.client().launch(agent, r.getInstanceId(), Schedule.GUEST_HEARTBEAT,
                        128 * Operator.MIB, Operator.HEARTBEAT_ARGS);
                say("PLANTED a second copy of " + r.getInstanceId() + " directly on " + other + " (the registry has it"
                        + " on " + r.getHost() + "@" + r.getEpoch() + "): " + (reply.getOk() ? "running" : reply.getError()));
                checker.round(false);
                if (ledger.violations().stream().filter(v -> v.invariant().equals("single-copy")).count() > caught) {
                    return;
                }
                Thread.sleep(4_000);
            }
        } catch (Exception e) {
            say("cannot plant a stray copy: " + e);
        }
    }

    /** Waits until no saga is in flight and the hosts run what the registry says, restoring lost instances. */
    private void settle(OrchestratorClient orch, Operator operator, Probe probe) throws InterruptedException {
        long deadline = System.currentTimeMillis() + SETTLE_MS;
        Set<String> recovered = new java.util.HashSet<>();
        while (System.currentTimeMillis() < deadline) {
            ClusterStatus status;
            Map<String, Probe.Hosted> lists;
            try {
                status = orch.statusAsync().toCompletableFuture().get(10, TimeUnit.SECONDS);
                lists = probe.lists();
            } catch (Exception e) {
                Thread.sleep(2_000);
                continue;
            }
            boolean calm = true;
            for (RegisteredInstance r : status.getInstancesList()) {
                switch (r.getState()) {
                    case "LOST" -> {
                        if (!r.getLastCheckpoint().isEmpty() && recovered.add(r.getInstanceId())) {
                            say("settling: restoring lost " + r.getInstanceId() + " from " + r.getLastCheckpoint());
                            operator.recover(r.getInstanceId());
                            calm = false;
                        }
                    }
                    case "RUNNING" -> {
                        List<String> copies = new ArrayList<>();
                        lists.forEach((h, l) -> l.list().getInstancesList().stream()
                                .filter(i -> i.getInstanceId().equals(r.getInstanceId()) && i.getState().equals("RUNNING"))
                                .forEach(i -> copies.add(h + "@" + i.getEpoch())));
                        calm &= copies.equals(List.of(r.getHost() + "@" + r.getEpoch()));
                    }
                    default -> calm = false;
                }
            }
            if (calm && lists.size() == options.hosts()) {
                say("settled: every instance runs once where the registry says, or is lost");
                return;
            }
            Thread.sleep(3_000);
        }
        say("the cluster did not settle within " + SETTLE_MS / 1000 + " s");
    }

    private void finalChecks(ClusterStatus end, Map<String, Probe.Hosted> lists) {
        if (end == null) {
            ledger.failed("settled", "the registry did not answer at the end");
            return;
        }
        Map<String, RegisteredInstance> reg = new HashMap<>();
        for (RegisteredInstance r : end.getInstancesList()) {
            reg.put(r.getInstanceId(), r);
            if (r.getState().equals("RUNNING") || r.getState().equals("LOST")) {
                ledger.passed("settled");
            } else {
                ledger.failed("settled", r.getInstanceId() + " is still " + r.getState() + " at the end");
            }
        }
        if (lists.size() < options.hosts()) {
            ledger.failed("no-orphan-vms", "only " + lists.keySet() + " answered at the end");
        }
        lists.forEach((host, h) -> h.list().getInstancesList().stream().filter(i -> i.getState().equals("RUNNING"))
                .forEach(i -> {
                    RegisteredInstance r = reg.get(i.getInstanceId());
                    if (r != null && r.getState().equals("RUNNING") && r.getHost().equals(host)
                            && r.getEpoch() == i.getEpoch()) {
                        ledger.passed("no-orphan-vms");
                    } else {
                        ledger.failed("no-orphan-vms", host + " runs " + i.getInstanceId() + "@" + i.getEpoch()
                                + ", which the registry has " + (r == null ? "never heard of"
                                : r.getState() + " on " + r.getHost() + "@" + r.getEpoch()));
                    }
                }));
    }

    /** After everything was stopped: no process, namespace, mount, filler file or port of this run is left. */
    private void leakChecks(ChaosCluster cluster) throws Exception {
        List<String> left = new ArrayList<>();
        for (HostProcess p : cluster.everyProcess()) {
            if (p.isAlive()) {
                left.add("process " + p.name() + " (pid " + p.pid() + ")");
            }
        }
        long deadline = System.currentTimeMillis() + 10_000;
        List<ProcessHandle> children = List.of();
        while (System.currentTimeMillis() < deadline) {
            children = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList();
            if (children.isEmpty()) {
                break;
            }
            Thread.sleep(200);
        }
        children.forEach(c -> left.add("child process " + c.pid() + " " + c.info().command().orElse("")));
        for (NetworkNamespace ns : cluster.namespaces()) {
            if (ns.exists()) {
                left.add("network namespace " + ns.name());
            }
        }
        for (Path m : DiskFiller.mountsUnder(cluster.dir())) {
            left.add("mount " + m);
        }
        try (var files = Files.walk(cluster.dir())) {
            files.filter(f -> f.getFileName().toString().equals(DiskFiller.FILLER)).forEach(f -> left.add("file " + f));
        }
        if (cluster.localAddress().equals("127.0.0.1")) {
            List<Integer> ports = new ArrayList<>(cluster.rootPorts());
            cluster.nodes().forEach(n -> ports.add(n.port()));
            for (int port : ports) {
                if (port > 0 && !free(port)) {
                    left.add("port 127.0.0.1:" + port + " still in use");
                }
            }
        }
        if (left.isEmpty()) {
            ledger.passed("nothing-leaked");
        } else {
            ledger.failed("nothing-leaked", String.join("; ", left));
        }
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (java.io.IOException taken) {
            return false;
        }
    }
}
