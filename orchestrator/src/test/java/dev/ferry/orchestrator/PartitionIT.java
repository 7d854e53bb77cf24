package dev.ferry.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.HostProcess;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.host.local.NetworkNamespace;
import dev.ferry.host.testing.RequiresNetworkNamespaces;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.protocol.v1.RestoreResult;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real network partition: host h3 runs in a network namespace of its own, joined to the others by a veth pair,
 * and the pair goes down in the middle of a migration from h3. The split-brain resolver (keep-majority) downs h3 on
 * the majority side while h3 downs itself on its own, closing its VMs; the registry reports the instance lost with
 * its checkpoint (never before h3 closed its copy), the instance is restored on a host that is left, and when the
 * link is back h3 runs no copy of it. Then h3 is cut off while it only runs an instance: a restore is refused while
 * h3 is merely unreachable, the instance is lost once h3 is removed, restored, and not run again by h3 after the heal.
 * Needs root and iproute2: without them the test fails with the reason, or is skipped when FERRY_ALLOW_NO_NETNS is set.
 */
@RequiresKvm
@RequiresNetworkNamespaces
class PartitionIT {
    private static final long MIB = 1L << 20;
    private static final Map<String, String> BUSY = Map.of("workset", "200", "rate", "0", "mode", "word");

    @TempDir
    Path dir;
    private NetworkNamespace ns;
    private LocalCluster cluster;
    /** Every node process this test started (a restarted host replaces its entry in the cluster's map). */
    private final List<HostProcess> started = new ArrayList<>();
    private final List<String> timeline = new ArrayList<>();
    private long t0;

    @BeforeEach
    void namespace() throws Exception {
        ns = NetworkNamespace.create();
        t0 = System.nanoTime();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            for (HostProcess h : started) {
                h.kill();
            }
            ns.close();
            System.out.println("partition timeline:\n  " + String.join("\n  ", timeline));
        }
        for (HostProcess h : started) {
            assertFalse(h.isAlive(), "node " + h.name() + " (pid " + h.pid() + ") was reaped");
        }
        assertFalse(ns.exists(), "namespace " + ns.name() + " and its veth pair are deleted");
    }

    private void mark(String what) {
        String line = String.format(Locale.ROOT, "%6.1f s  %s", (System.nanoTime() - t0) / 1e9, what);
        timeline.add(line);
        System.out.println(line);
    }

    private HostProcess track(HostProcess h) {
        synchronized (started) {
            started.add(h);
        }
        return h;
    }

    private HostProcess startH3() throws Exception {
        return track(cluster.startHostAt("h3", 4L << 30, ns.insideAddress(), ns.commandPrefix()));
    }

    /**
     * A downed node's JVM ends after its coordinated shutdown, whose later phases wait for peers it cannot reach
     * (1 to 40 s here, longer on a busy machine). Its VMs were already seen stopped: if it is still shutting down after
     * a minute, it is killed so the test can restart it.
     */
    private void awaitExit(HostProcess h) throws InterruptedException {
        try {
            HostTruth.await("the cut-off host's JVM exits", Duration.ofSeconds(60), () -> !h.isAlive());
            mark("h3's JVM exited on its own");
        } catch (AssertionError stillShuttingDown) {
            h.kill();
            mark("h3 still shutting down after 60 s (its VMs already stopped): killed");
        }
    }


    @Test
    void aHostCutOffMidMigrationIsDownedAndItsInstanceIsLostThenRestoredOnceAndNotRunAgainAfterTheHeal()
            throws Exception {
        // Every node listens on this side's end of the pair, so that h3, inside the namespace, reaches them.
        cluster = new LocalCluster(dir, ns.outsideAddress());
        track(cluster.startHost("h1", 4L << 30));
        ExecutorService starts = Executors.newFixedThreadPool(3);
        try {
            List<Future<HostProcess>> nodes = List.of(
                    starts.submit(() -> track(cluster.startHost("h2", 4L << 30))),
                    starts.submit(this::startH3),
                    starts.submit(() -> track(cluster.startNode(OrchestratorNode.class.getName(),
                            OrchestratorNode.UP_LINE, "orch"))));
            for (Future<HostProcess> f : nodes) {
                f.get(180, TimeUnit.SECONDS);
            }
        } finally {
            starts.shutdownNow();
        }
        HostProcess h3 = cluster.host("h3");
        // `ip netns exec` execs the JVM: the process the cluster holds (and kills) is the JVM itself.
        Optional<String> h3Command = ProcessHandle.of(h3.pid()).flatMap(p -> p.info().command());
        assertTrue(h3Command.isPresent() && h3Command.get().endsWith("/java"), "h3's process is java: " + h3Command);
        cluster.agents(3);
        HostClient client = cluster.client();
        OrchestratorClient orch = new OrchestratorClient(client);
        orch.gateway(Duration.ofSeconds(60));
        mark("h1, h2, orchestrator on " + ns.outsideAddress() + "; h3 in namespace " + ns.name() + " on "
                + ns.insideAddress());

        assertTrue(orch.launch("p", "dirtier", 512 * MIB, BUSY, "h3").getOk());
        Thread.sleep(1000);
        CheckpointResult checkpoint = orch.checkpoint("p");
        assertTrue(checkpoint.getOk(), checkpoint.getError());
        mark("p runs on h3; checkpoint " + checkpoint.getPath());

        // The migration h3 -> h2 loses its source once the first pre-copy round has gone by.
        AtomicLong cutAt = new AtomicLong();
        MigrationDone done = orch.migrate("p", "h2", 50_000, progress -> {
            if (progress.getRound() >= 1 && cutAt.get() == 0) {
                try {
                    ns.cut();
                    cutAt.set(System.nanoTime());
                    mark("link to h3 cut during pre-copy round " + progress.getRound());
                } catch (Exception e) {
                    throw new IllegalStateException("cannot cut the link to h3", e);
                }
            }
        }, Duration.ofSeconds(120));
        LocalTime decidedAt = LocalTime.now();
        assertTrue(cutAt.get() != 0, "the link was cut mid-migration: " + done);
        mark("saga decided: " + (done.getOk() ? "committed on " + done.getDestinationHost() : done.getError()));

        // What h3 does on its side: its split-brain resolver downs it (it is the minority), the agent closes its VMs
        // as the node's shutdown begins, the actor system ends, and so does the JVM.
        assertTrue(Files.readString(h3.log()).contains("SBR took decision DownReachable"), "h3 downed itself:\n"
                + h3.tail());
        mark("h3 downed itself (SBR DownReachable)");

        String copy;
        if (done.getOk()) {
            // The destination had taken over before the cut: it alone runs p, at the new epoch.
            RegisteredInstance moved = orch.instance("p");
            assertEquals("RUNNING", moved.getState());
            assertEquals("h2", moved.getHost());
            copy = "h2@" + moved.getEpoch();
            assertEquals(List.of(copy), HostTruth.runningCopies(client, "p"));
            mark("p committed on " + copy + " before the cut took effect");
        } else {
            // The destination never took over and the source is gone: the instance is lost with its checkpoint, and
            // h3 closed its copy before the registry said so.
            assertStoppedBefore(h3, "p", decidedAt);
            RegisteredInstance lost = orch.instance("p");
            assertEquals("LOST", lost.getState());
            assertTrue(lost.getLostReason().contains("h3") && lost.getLostReason().contains(checkpoint.getPath()),
                    lost.getLostReason());
            mark("registry: p LOST (" + lost.getLostReason() + ")");
            assertFalse(client.awaitHosts(0, Duration.ofSeconds(10)).containsKey("h3"), "h3 is out of the cluster");
            assertEquals(List.of(), HostTruth.runningCopies(client, "p"), "no reachable host runs p");
            List<String> atH2 = copiesOnHost(client, "h2", "p");
            assertTrue(atH2.stream().noneMatch(st -> st.equals("RUNNING") || st.equals("MIGRATING_IN")),
                    "h2 keeps no half-migrated copy: " + atH2);

            RestoreResult back = orch.restore("p", null, null);
            assertTrue(back.getOk(), back.getError());
            assertTrue(List.of("h1", "h2").contains(back.getHost()), "restored on this side: " + back.getHost());
            copy = back.getHost() + "@" + back.getEpoch();
            assertEquals(List.of(copy), HostTruth.runningCopies(client, "p"));
            RegisteredInstance restored = orch.instance("p");
            assertEquals("RUNNING", restored.getState());
            assertEquals(copy, restored.getHost() + "@" + restored.getEpoch());
            mark("p restored from its checkpoint on " + copy);
        }

        // The link comes back, and h3 with it (its process ended, so it is started again with its journal): it
        // knows its VM died with its previous process and runs no copy of p.
        awaitExit(h3);
        ns.heal();
        mark("link healed");
        startH3();
        cluster.agents(3);
        mark("h3 restarted in the namespace and rejoined");
        HostTruth.await("h3 reports p not running", Duration.ofSeconds(30),
                () -> HostTruth.quietly(() -> copiesOnHost(client, "h3", "p").stream().noneMatch(s -> s.equals("RUNNING"))));
        mark("h3 reports p " + copiesOnHost(client, "h3", "p"));
        assertEquals(List.of(copy), HostTruth.runningCopies(client, "p"));
        RegisteredInstance after = orch.instance("p");
        assertEquals("RUNNING", after.getState());
        assertEquals(copy, after.getHost() + "@" + after.getEpoch());
        mark("exactly one copy of p: " + copy + ", as the registry says");

        // A host that only runs an instance is cut off: the registry reports the instance lost, and not before h3
        // has stopped running it (its JVM has ended), so a restore never makes a second copy.
        HostProcess h3again = cluster.host("h3");
        // The orchestrator learns of the restarted h3 through its own receptionist, which may lag the test's.
        String[] launchError = {""};
        try {
            HostTruth.await("q launches on the restarted h3", Duration.ofSeconds(60), () -> HostTruth.quietly(() -> {
                var r = orch.launch("q", "dirtier", 256 * MIB, BUSY, "h3");
                launchError[0] = r.getError();
                return r.getOk();
            }));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last refusal: " + launchError[0], e);
        }
        CheckpointResult qCheckpoint = orch.checkpoint("q");
        assertTrue(qCheckpoint.getOk(), qCheckpoint.getError());
        ns.cut();
        mark("q runs on h3, checkpointed; link to h3 cut");
        // As soon as the orchestrator no longer reaches h3 (a quick answer without h3), a restore elsewhere is refused
        // while h3 is still in the cluster: cut off, it may still run q.
        HostTruth.await("the orchestrator no longer reaches h3", Duration.ofSeconds(60), () -> HostTruth.quietly(() -> {
            long asked = System.nanoTime();
            boolean without = orch.status().getHostsList().stream().noneMatch(h -> h.getHost().equals("h3"));
            return without && System.nanoTime() - asked < 3_000_000_000L;
        }));
        RestoreResult early = orch.restore("q", null, "h1");
        LocalTime earlyAt = LocalTime.now();
        RestoreResult qBack;
        if (!early.getOk()) {
            assertTrue(early.getError().contains("unreachable"), early.getError());
            assertEquals("RUNNING", orch.instance("q").getState(), "a refused restore leaves q as it was");
            mark("restore refused while h3 is only unreachable: " + early.getError());
            HostTruth.await("the registry reports q lost", Duration.ofSeconds(90),
                    () -> HostTruth.quietly(() -> orch.instance("q").getState().equals("LOST")));
            LocalTime qLostAt = LocalTime.now();
            mark("registry: q LOST (" + orch.instance("q").getLostReason() + ")");
            assertStoppedBefore(h3again, "q", qLostAt);
            qBack = orch.restore("q", null, null);
        } else {
            // The cluster had already removed h3 (so h3 had downed itself): the restore went ahead.
            mark("restore went ahead: h3 had already been removed");
            assertStoppedBefore(h3again, "q", earlyAt);
            qBack = early;
        }
        assertTrue(qBack.getOk(), qBack.getError());
        String qCopy = qBack.getHost() + "@" + qBack.getEpoch();
        assertEquals(List.of(qCopy), HostTruth.runningCopies(client, "q"));
        mark("q restored on " + qCopy);
        awaitExit(h3again);
        ns.heal();
        startH3();
        cluster.agents(3);
        mark("link healed; h3 restarted and rejoined");
        HostTruth.await("h3 reports q not running", Duration.ofSeconds(30),
                () -> HostTruth.quietly(() -> copiesOnHost(client, "h3", "q").stream().noneMatch(s -> s.equals("RUNNING"))));
        // Two reconciler rounds later, still exactly one copy of each, where the registry says.
        Thread.sleep(7000);
        assertEquals(List.of(qCopy), HostTruth.runningCopies(client, "q"));
        assertEquals(List.of(copy), HostTruth.runningCopies(client, "p"));
        for (var e : Map.of("p", copy, "q", qCopy).entrySet()) {
            RegisteredInstance r = orch.instance(e.getKey());
            assertEquals("RUNNING", r.getState());
            assertEquals(e.getValue(), r.getHost() + "@" + r.getEpoch());
        }
        mark("exactly one copy each: p " + copy + ", q " + qCopy);
    }

    /**
     * That {@code host}'s agent closed the VM of {@code id} (as its node shut down) no later than {@code when}, the
     * moment the registry was seen to call it lost: a restore from then on cannot make a second copy.
     */
    private void assertStoppedBefore(HostProcess host, String id, LocalTime when) throws Exception {
        String log = Files.readString(host.log());
        Matcher m = Pattern.compile("(?m)^(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) .* stops: closing the VMs of \\[.*\\b"
                + Pattern.quote(id) + "\\b").matcher(log);
        assertTrue(m.find(), host.name() + " closed the VM of " + id + " as it stopped:\n" + host.tail());
        LocalTime closedAt = LocalTime.parse(m.group(1));
        mark(host.name() + " closed the VM of " + id + " at " + closedAt + "; the registry called it lost by " + when);
        assertFalse(closedAt.isAfter(when), host.name() + " ran " + id + " until " + closedAt
                + ", after the registry had called it lost (" + when + ")");
    }

    /** The states in which {@code host} reports {@code id} (empty if it does not know it). */
    private static List<String> copiesOnHost(HostClient client, String host, String id) throws Exception {
        var agent = client.awaitHosts(1, Duration.ofSeconds(10)).get(host);
        if (agent == null) {
            throw new IllegalStateException("host " + host + " is not reachable");
        }
        return client.list(agent).getInstancesList().stream().filter(i -> i.getInstanceId().equals(id))
                .map(InstanceInfo::getState).toList();
    }
}
