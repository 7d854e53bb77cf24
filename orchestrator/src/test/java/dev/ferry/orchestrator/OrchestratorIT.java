package dev.ferry.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.host.local.LocalCluster;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The orchestrator places, launches and migrates instances across host JVMs, and refuses bad requests clearly. */
@RequiresKvm
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OrchestratorIT {
    private static final long GIB = 1L << 30;

    @TempDir
    static Path dir;
    private LocalCluster cluster;
    private OrchestratorClient orch;

    @BeforeAll
    void start() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 2 * GIB);
        cluster.startHost("h2", 2 * GIB);
        // An older CPU: its guests do not see SSE2, so nothing that started elsewhere may move there.
        cluster.startHost("old", 2 * GIB, "-Dferry.cpu.hide=sse2");
        cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, "orch");
        cluster.agents(3);
        orch = new OrchestratorClient(cluster.client());
        orch.gateway(Duration.ofSeconds(60));
    }

    @AfterAll
    void stop() throws Exception {
        cluster.close();
    }

    @Test
    void placesLaunchesAndMigratesWhereverThereIsRoom() throws Exception {
        LaunchResult launched = orch.launch("web", "heartbeat", 256L << 20, Map.of("interval_ms", "50"), "h1");
        assertTrue(launched.getOk(), launched.getError());
        String first = launched.getHost();
        MigrationDone done = orch.migrate("web", null, 50_000, p -> { }, Duration.ofSeconds(60));
        assertTrue(done.getOk(), done.getError());
        RegisteredInstance r = orch.instance("web");
        assertNotEquals(first, r.getHost(), "moved to another host");
        assertEquals("h2", r.getHost(), "never to the host without the CPU features it started with");
        assertEquals(2, r.getEpoch());
        assertEquals("RUNNING", r.getState());
        assertTrue(orch.status().getInstancesList().stream()
                .anyMatch(i -> i.getInstanceId().equals("web") && i.getHost().equals(r.getHost())));
    }

    @Test
    void refusesBadRequestsClearlyAndChangesNothing() throws Exception {
        assertTrue(orch.launch("db", "heartbeat", 128L << 20, Map.of(), "h1").getOk());
        LaunchResult dup = orch.launch("db", "heartbeat", 128L << 20, Map.of(), "h2");
        assertFalse(dup.getOk());
        assertTrue(dup.getError().contains("already exists"), dup.getError());
        LaunchResult huge = orch.launch("huge", "heartbeat", 64 * GIB, Map.of(), null);
        assertFalse(huge.getOk());
        assertTrue(huge.getError().contains("no host has 64 GiB free"), huge.getError());
        LaunchResult nowhere = orch.launch("lost", "heartbeat", 128L << 20, Map.of(), "h9");
        assertFalse(nowhere.getOk());
        assertTrue(nowhere.getError().contains("unknown host h9"), nowhere.getError());
        MigrationDone same = orch.migrate("db", "h1", 50_000, p -> { }, Duration.ofSeconds(30));
        assertFalse(same.getOk());
        assertTrue(same.getError().contains("already runs on h1"), same.getError());
        MigrationDone unknown = orch.migrate("nosuch", null, 50_000, p -> { }, Duration.ofSeconds(30));
        assertFalse(unknown.getOk());
        assertTrue(unknown.getError().contains("unknown instance nosuch"), unknown.getError());
        assertEquals("h1", orch.instance("db").getHost());
        assertEquals(1, orch.instance("db").getEpoch());
    }

    @Test
    void refusesAHostWithoutTheCpuFeaturesTheInstanceMayUse() throws Exception {
        assertTrue(orch.launch("vec", "heartbeat", 64L << 20, Map.of(), "h1").getOk());
        assertTrue(orch.instance("vec").getCpuFeaturesList().contains("sse2"), orch.instance("vec").toString());
        MigrationDone toOld = orch.migrate("vec", "old", 50_000, p -> { }, Duration.ofSeconds(30));
        assertFalse(toOld.getOk());
        assertTrue(toOld.getError().contains("host old lacks CPU features [sse2]"), toOld.getError());
        assertEquals("h1", orch.instance("vec").getHost(), "nothing moved");
        // An instance that started on the older CPU may go anywhere.
        assertTrue(orch.launch("plain", "heartbeat", 64L << 20, Map.of(), "old").getOk());
        MigrationDone fromOld = orch.migrate("plain", "h1", 50_000, p -> { }, Duration.ofSeconds(60));
        assertTrue(fromOld.getOk(), fromOld.getError());
    }

    @Test
    void refusesASecondMigrationOfTheSameInstanceWhileTheFirstRuns() throws Exception {
        assertTrue(orch.launch("twice", "dirtier", 512L << 20, Map.of("workset", "200", "rate", "0", "mode", "word"),
                "h2").getOk());
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return orch.migrate("twice", "h1", 50_000, p -> started.countDown(), Duration.ofSeconds(120));
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        assertTrue(started.await(60, java.util.concurrent.TimeUnit.SECONDS), "the first migration reports progress");
        MigrationDone second = orch.migrate("twice", "h1", 50_000, p -> { }, Duration.ofSeconds(30));
        assertFalse(second.getOk());
        assertTrue(second.getError().contains("already migrating"), second.getError());
        assertTrue(first.get(150, java.util.concurrent.TimeUnit.SECONDS).getOk(), "the first one completes");
        assertEquals(java.util.List.of("h1@2"), HostTruth.runningCopies(cluster.client(), "twice"));
    }

    @Test
    void refusesAHostWhoseNameIsTaken() throws Exception {
        java.nio.file.Path data = dir.resolve("elsewhere").resolve("h2");
        var h = new dev.ferry.host.local.HostProcess("h2", data, 0, cluster.seed(), GIB, java.util.List.of());
        try {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, h::start);
            assertTrue(e.getMessage().contains("host name h2 is already taken"), e.getMessage());
        } finally {
            h.close();
        }
        assertEquals(3, orch.status().getHostsCount(), "still three hosts");
    }

    @Test
    void evacuatesEveryInstanceOffAHost() throws Exception {
        assertTrue(orch.launch("e1", "heartbeat", 64L << 20, Map.of(), "h2").getOk());
        assertTrue(orch.launch("e2", "heartbeat", 64L << 20, Map.of(), "h2").getOk());
        var results = orch.evacuate("h2", 2, 50_000, Duration.ofSeconds(60));
        assertTrue(results.stream().allMatch(r -> r.result().getOk()), results.toString());
        assertTrue(results.stream().map(OrchestratorClient.Evacuated::instanceId).toList().containsAll(java.util.List.of("e1", "e2")));
        assertTrue(orch.status().getInstancesList().stream().noneMatch(i -> i.getHost().equals("h2")),
                "nothing runs on h2 any more");
        assertEquals("h1", orch.instance("e1").getHost());
    }
}
