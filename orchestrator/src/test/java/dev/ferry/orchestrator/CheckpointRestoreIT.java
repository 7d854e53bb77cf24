package dev.ferry.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.protocol.v1.RestoreResult;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints and restores through the registry: a roll-back in place, a lost instance (its host killed with kill -9)
 * brought back on another host from its checkpoint, and a stray copy fenced by epoch.
 */
@RequiresKvm
class CheckpointRestoreIT {
    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;
    private LocalCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }


    @Test
    void aLostInstanceComesBackFromItsCheckpointAndAStrayCopyIsFenced() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 1L << 30);
        cluster.startHost("h2", 1L << 30);
        cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, "orch");
        cluster.agents(2);
        HostClient client = cluster.client();
        OrchestratorClient orch = new OrchestratorClient(client);
        orch.gateway(Duration.ofSeconds(60));

        // Refusals first: nothing to checkpoint or restore yet.
        CheckpointResult none = orch.checkpoint("nosuch");
        assertFalse(none.getOk());
        assertTrue(none.getError().contains("unknown instance nosuch"), none.getError());
        assertTrue(orch.launch("cp", "heartbeat", 128 * MIB, Map.of("interval_ms", "50"), "h2").getOk());
        RestoreResult noCheckpoint = orch.restore("cp", null, null);
        assertFalse(noCheckpoint.getOk());
        assertTrue(noCheckpoint.getError().contains("has no checkpoint"), noCheckpoint.getError());

        HostTruth.await("cp beats 5 times", Duration.ofSeconds(30),
                () -> HostTruth.quietly(() -> HostTruth.beats(client, "h2", "cp").size() >= 5));
        CheckpointResult taken = orch.checkpoint("cp");
        assertTrue(taken.getOk(), taken.getError());
        assertTrue(Files.size(Path.of(taken.getPath())) > 0);
        long atCheckpoint = last(HostTruth.beats(client, "h2", "cp"));
        RegisteredInstance registered = orch.instance("cp");
        assertEquals(taken.getPath(), registered.getLastCheckpoint());
        assertEquals(1, registered.getCheckpoints());

        // Roll back in place: the running copy is stopped, the checkpoint runs at a new epoch, the count goes back.
        HostTruth.await("cp runs on past the checkpoint", Duration.ofSeconds(30),
                () -> HostTruth.quietly(() -> last(HostTruth.beats(client, "h2", "cp")) > atCheckpoint + 10));
        RestoreResult rolledBack = orch.restore("cp", null, null);
        assertTrue(rolledBack.getOk(), rolledBack.getError());
        assertEquals("h2", rolledBack.getHost());
        assertEquals(2, rolledBack.getEpoch());
        HostTruth.await("the restored cp beats", Duration.ofSeconds(30),
                () -> HostTruth.quietly(() -> HostTruth.beats(client, "h2", "cp").size() >= 3));
        List<Long> afterRollback = HostTruth.beats(client, "h2", "cp");
        assertTrue(afterRollback.get(0) <= atCheckpoint + 2, "the count continues from the checkpoint: " + afterRollback
                + " (checkpoint at " + atCheckpoint + ")");
        assertEquals(List.of("h2@2"), HostTruth.runningCopies(client, "cp"));

        // kill -9 of its host: the registry reports it lost, with the checkpoint to restore from.
        cluster.host("h2").kill();
        HostTruth.await("the registry reports cp lost", Duration.ofSeconds(90),
                () -> HostTruth.quietly(() -> orch.instance("cp").getState().equals("LOST")));
        RegisteredInstance lost = orch.instance("cp");
        assertTrue(lost.getLostReason().contains("h2") && lost.getLostReason().contains(taken.getPath()),
                lost.getLostReason());
        RestoreResult back = orch.restore("cp", null, null);
        assertTrue(back.getOk(), back.getError());
        assertEquals("h1", back.getHost(), "placed on the host that is left");
        assertEquals(3, back.getEpoch());
        HostTruth.await("cp beats on h1", Duration.ofSeconds(30),
                () -> HostTruth.quietly(() -> HostTruth.beats(client, "h1", "cp").size() >= 3));
        assertTrue(HostTruth.beats(client, "h1", "cp").get(0) <= atCheckpoint + 2);
        assertEquals(List.of("h1@3"), HostTruth.runningCopies(client, "cp"));

        // The dead host comes back: its agent knows its VM died; it runs nothing the registry assigns elsewhere.
        cluster.startHost("h2", 1L << 30);
        cluster.agents(2);
        HostTruth.await("h2 reports nothing running", Duration.ofSeconds(30),
                () -> HostTruth.quietly(() -> HostTruth.runningCopies(client, "cp").equals(List.of("h1@3"))));

        // A copy the registry does not assign (started behind its back) is fenced.
        var h2 = client.awaitHosts(2, Duration.ofSeconds(30)).get("h2");
        assertTrue(client.launch(h2, "cp", "heartbeat", 64 * MIB, Map.of()).getOk());
        HostTruth.await("the stray copy on h2 is stopped", Duration.ofSeconds(30),
                () -> HostTruth.quietly(() -> HostTruth.runningCopies(client, "cp").equals(List.of("h1@3"))));
        RegisteredInstance after = orch.instance("cp");
        assertEquals("RUNNING", after.getState());
        assertEquals("h1", after.getHost());
        assertEquals(3, after.getEpoch());
    }

    private static long last(List<Long> xs) {
        if (xs.isEmpty()) {
            throw new IllegalStateException("no beats yet");
        }
        return xs.get(xs.size() - 1);
    }
}
