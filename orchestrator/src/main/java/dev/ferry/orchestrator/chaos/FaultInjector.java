package dev.ferry.orchestrator.chaos;

import dev.ferry.protocol.v1.RegisteredInstance;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Injects the schedule's faults and undoes them: restarts killed nodes, heals partitions (restarting a node the cluster
 * downed meanwhile), lifts delays, empties full disks. Also restarts a node that exited on its own, so the cluster
 * heals; {@link #healAll()} undoes whatever is still in effect at the end.
 */
final class FaultInjector implements AutoCloseable {
    /** How long a node-taking fault waits for the cluster to have healed from the previous one. */
    static final long HEALED_WITHIN_MS = 60_000;

    private final ChaosCluster cluster;
    private final Operator operator;
    private final dev.ferry.orchestrator.OrchestratorClient orch;
    private final Ledger ledger;
    private final Consumer<String> say;
    /** Nodes a fault has taken away and that come back by themselves (restart, heal): the watchdog leaves them. */
    private final Set<String> away = ConcurrentHashMap.newKeySet();
    private final Set<String> cut = ConcurrentHashMap.newKeySet();
    /** When each cut link is due back (System.nanoTime()): never sooner, even at the end. */
    private final java.util.Map<String, Long> cutUntil = new ConcurrentHashMap<>();
    /** When the schedule ends (System.nanoTime()); a fault held back until then is not injected. */
    private volatile long endNanos = Long.MAX_VALUE;
    private final Set<String> delayed = ConcurrentHashMap.newKeySet();
    private final Set<String> full = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2, r -> daemon(r, "chaos-undo"));
    private final ExecutorService restarts = Executors.newFixedThreadPool(2, r -> daemon(r, "chaos-restart"));

    FaultInjector(ChaosCluster cluster, Operator operator, dev.ferry.orchestrator.OrchestratorClient orch, Ledger ledger,
                  Consumer<String> say) {
        this.cluster = cluster;
        this.operator = operator;
        this.orch = orch;
        this.ledger = ledger;
        this.say = say;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    void endsAt(long nanos) {
        endNanos = nanos;
    }

    private boolean tooLate(Fault f, long needsMillis) {
        if (System.nanoTime() + needsMillis * 1_000_000 > endNanos) {
            ledger.faultSkipped(f.kind(), f.describe() + ": held back until the schedule had no time left for it");
            return true;
        }
        return false;
    }

    /** Nodes that are away now (killed and not yet back, or cut off). */
    Set<String> away() {
        return Set.copyOf(away);
    }

    void inject(Fault f) {
        try {
            if (f instanceof Fault.Kill k) {
                kill(k);
            } else if (f instanceof Fault.Partition p) {
                partition(p);
            } else if (f instanceof Fault.Delay d) {
                delay(d);
            } else if (f instanceof Fault.DiskFull d) {
                fill(d);
            }
        } catch (Exception e) {
            ledger.faultSkipped(f.kind(), f.describe() + ": " + e);
        }
    }

    /** Waits until every node runs and is a cluster member; false when that did not happen in time. */
    private boolean healed(long withinMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + withinMillis;
        while (System.currentTimeMillis() < deadline) {
            if (away.isEmpty() && cluster.nodes().stream().allMatch(n -> n.isAlive() && cluster.isMember(n))) {
                return true;
            }
            Thread.sleep(500);
        }
        return false;
    }

    private void kill(Fault.Kill k) throws Exception {
        if (!healed(HEALED_WITHIN_MS)) {
            ledger.faultSkipped(k.kind(), k.describe() + ": the cluster had not healed from the previous fault");
            return;
        }
        if (tooLate(k, 0)) {
            return;
        }
        if (k.phase() == Fault.KillPhase.ANY) {
            killNow(k.node(), k, "kill -9 " + k.node());
            return;
        }
        RegisteredInstance r = orch.instance(k.instance());
        if (!r.getState().equals("RUNNING")) {
            ledger.faultSkipped(k.kind(), k.describe() + ": " + k.instance() + " is " + r.getState());
            return;
        }
        String source = r.getHost();
        String target = operator.otherThan(source, k.toHost());
        String victim = switch (k.phase()) {
            case MIGRATION_SOURCE -> source;
            case MIGRATION_DESTINATION -> target;
            default -> k.node();
        };
        AtomicBoolean struck = new AtomicBoolean();
        ledger.attempted("migrate");
        try {
            String error = operator.migrate(k.instance(), target, p -> {
                if (p.getRound() >= 1 && struck.compareAndSet(false, true)) {
                    killNow(victim, k, "kill -9 " + victim + " " + k.phase().words() + " (" + k.instance() + " "
                            + source + " -> " + target + ", round " + p.getRound() + ")");
                }
            });
            if (error == null) {
                ledger.succeeded("migrate");
            } else {
                ledger.failedCleanly("migrate", error);
            }
        } catch (Exception e) {
            ledger.noAnswer("migrate", e.getMessage() == null ? e.toString() : e.getMessage());
        }
        if (!struck.get()) {
            ledger.faultSkipped(k.kind(), k.describe() + ": the migration ended before its first pre-copy round");
        }
    }

    private void killNow(String name, Fault.Kill k, String what) {
        away.add(name);
        try {
            cluster.kill(name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ledger.injected(FaultKind.KILL, what);
        say.accept("FAULT " + what);
        timers.schedule(() -> restarts.execute(() -> restart(name, false)), k.restartAfterMillis(), TimeUnit.MILLISECONDS);
    }

    private void partition(Fault.Partition p) throws Exception {
        if (!healed(HEALED_WITHIN_MS)) {
            ledger.faultSkipped(p.kind(), p.describe() + ": the cluster had not healed from the previous fault");
            return;
        }
        if (tooLate(p, 0)) {
            return;
        }
        away.add(p.node());
        cut.add(p.node());
        cutUntil.put(p.node(), System.nanoTime() + p.durationMillis() * 1_000_000);
        cluster.cut(p.node());
        String what = "partition: " + p.node() + " cut off from the others for " + Fault.seconds(p.durationMillis());
        ledger.injected(FaultKind.PARTITION, what);
        say.accept("FAULT " + what);
        timers.schedule(() -> restarts.execute(() -> heal(p.node())), p.durationMillis(), TimeUnit.MILLISECONDS);
    }

    /** Brings the link back; a node the cluster removed meanwhile (downed, its JVM ending) is restarted. */
    private void heal(String name) {
        try {
            if (!cut.remove(name)) {
                return;   // healed already (at its time, or by healAll at the end)
            }
            cluster.heal(name);
            say.accept("healed the link of " + name);
            ChaosNode n = cluster.node(name);
            long deadline = System.currentTimeMillis() + 20_000;
            while (System.currentTimeMillis() < deadline && n.isAlive() && !cluster.isMember(n)) {
                Thread.sleep(500);
            }
            if (n.isAlive() && cluster.isMember(n) && !cluster.isUnreachable(n)) {
                away.remove(name);
                return;
            }
            // Downed by the split-brain resolver: its JVM ends after its shutdown, which may wait on peers it lost.
            deadline = System.currentTimeMillis() + 30_000;
            while (System.currentTimeMillis() < deadline && n.isAlive()) {
                Thread.sleep(500);
            }
            restart(name, false);
        } catch (Exception e) {
            say.accept("cannot heal " + name + ": " + e);
        }
    }

    /** One restart of a node at a time: two would both append to its log and each take the other's "up" for its own. */
    private void restart(String name, boolean onItsOwn) {
        ChaosNode n = cluster.node(name);
        synchronized (n) {
            restartLocked(n, name, onItsOwn);
        }
    }

    private void restartLocked(ChaosNode n, String name, boolean onItsOwn) {
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                cluster.kill(name);
                cluster.start(n);
                ledger.restarted();
                if (onItsOwn) {
                    ledger.exitedOnItsOwn();
                }
                say.accept("restarted " + name + " (pid " + n.process().pid() + ")");
                away.remove(name);
                return;
            } catch (Exception e) {
                say.accept("restart of " + name + " failed (attempt " + attempt + "): " + e.getMessage());
            }
        }
        away.remove(name);
    }

    /** Restarts nodes that died without a fault of ours; called every few seconds. */
    void watch() {
        for (ChaosNode n : cluster.nodes()) {
            if (!n.isAlive() && !away.contains(n.name()) && n.process() != null) {
                away.add(n.name());
                say.accept(n.name() + " exited on its own (" + tailLine(n) + "); restarting it");
                restarts.execute(() -> restart(n.name(), true));
            }
        }
    }

    private static String tailLine(ChaosNode n) {
        String t = n.process().tail().strip();
        int nl = t.lastIndexOf('\n');
        return nl < 0 ? t : t.substring(nl + 1);
    }

    private String peerOf(String host) {
        ChaosNode n = cluster.node(host);
        return n.namespace() == null ? LinkProxy.EVERY_PEER : n.address();
    }

    private void delay(Fault.Delay d) {
        String peer = peerOf(d.host());
        delayed.add(peer);
        cluster.proxy().impair(peer, new LinkProxy.Impairment(d.delayMillis(), d.lossPercent()));
        String what = "delay: s1<->" + d.host() + (peer.equals(LinkProxy.EVERY_PEER) ? " (every host: one address)" : "")
                + " +" + d.delayMillis() + " ms, " + d.lossPercent() + "% loss for " + Fault.seconds(d.durationMillis());
        ledger.injected(FaultKind.DELAY, what);
        say.accept("FAULT " + what);
        timers.schedule(() -> {
            if (delayed.remove(peer)) {
                cluster.proxy().restore(peer);
            }
        }, d.durationMillis(), TimeUnit.MILLISECONDS);
    }

    private void fill(Fault.DiskFull d) throws Exception {
        ChaosNode n = cluster.node(d.host());
        if (!full.add(d.host())) {
            ledger.faultSkipped(d.kind(), d.describe() + ": its disk is already full");
            return;
        }
        long bytes = cluster.disks().fill(n.dataDir());
        String what = "disk-full: " + d.host() + "'s data directory filled (" + bytes / (1 << 20) + " MiB) for "
                + Fault.seconds(d.durationMillis());
        ledger.injected(FaultKind.DISK_FULL, what);
        say.accept("FAULT " + what);
        timers.schedule(() -> empty(d.host()), d.durationMillis(), TimeUnit.MILLISECONDS);
    }

    private void empty(String host) {
        if (full.remove(host)) {
            try {
                cluster.disks().clear(cluster.node(host).dataDir());
            } catch (java.io.IOException e) {
                say.accept("cannot empty the disk of " + host + ": " + e.getMessage());
            }
        }
    }

    /** Undoes every fault still in effect and waits until every node is back in the cluster. */
    boolean healAll() throws InterruptedException {
        for (String peer : Set.copyOf(delayed)) {
            delayed.remove(peer);
            cluster.proxy().restore(peer);
        }
        for (String host : Set.copyOf(full)) {
            empty(host);
        }
        // A cut healed sooner than planned may come back while the split-brain resolver is deciding, which then downs
        // every node it finds "indirectly connected": each link stays down for the whole of its partition.
        for (String name : Set.copyOf(cut)) {
            long wait = cutUntil.getOrDefault(name, 0L) - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000);
            }
            restarts.execute(() -> heal(name));
        }
        return healed(180_000);
    }

    @Override
    public void close() {
        timers.shutdownNow();
        restarts.shutdownNow();
    }
}
