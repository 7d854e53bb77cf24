package dev.ferry.orchestrator.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.protocol.v1.CheckpointRecorded;
import dev.ferry.protocol.v1.InstanceLostRecorded;
import dev.ferry.protocol.v1.InstanceRegistered;
import dev.ferry.protocol.v1.MigrationSagaCommitted;
import dev.ferry.protocol.v1.MigrationSagaStarted;
import dev.ferry.protocol.v1.RestoreSagaCompleted;
import dev.ferry.protocol.v1.RestoreSagaFailed;
import dev.ferry.protocol.v1.RestoreSagaStarted;
import org.junit.jupiter.api.Test;

class InstanceStateTest {
    private static InstanceState running() {
        return InstanceState.empty("web").apply(InstanceRegistered.newBuilder().setInstanceId("web").setGuest("heartbeat")
                .setMemoryBytes(1 << 27).setHost("h1").setEpoch(1).build());
    }

    private static RestoreSagaStarted restore(String target, long epoch, String stopHost) {
        return RestoreSagaStarted.newBuilder().setRestoreId("r1").setTargetHost(target).setCheckpoint("/c/web/e1.ferry")
                .setEpoch(epoch).setStopHost(stopHost).build();
    }

    @Test
    void aMigrationCommitMovesTheInstanceAndRaisesItsEpoch() {
        InstanceState s = running().apply(MigrationSagaStarted.newBuilder().setMigrationId("m1").setSourceHost("h1")
                .setTargetHost("h2").setEpoch(1).build());
        assertEquals(Phase.MIGRATING, s.phase());
        s = s.apply(MigrationSagaCommitted.newBuilder().setMigrationId("m1").setTargetHost("h2").setEpoch(2).build());
        assertEquals(Phase.RUNNING, s.phase());
        assertEquals("h2", s.host());
        assertEquals(2, s.epoch());
    }

    @Test
    void checkpointsAreCountedAndTheNewestIsRemembered() {
        InstanceState s = running().apply(CheckpointRecorded.newBuilder().setPath("/c/a").setEpoch(1).build())
                .apply(CheckpointRecorded.newBuilder().setPath("/c/b").setEpoch(1).build());
        assertEquals("/c/b", s.lastCheckpoint());
        assertEquals(2, s.checkpoints());
        assertEquals(Phase.RUNNING, s.phase());
    }

    @Test
    void aLostInstanceIsRestoredElsewhereAtANewEpoch() {
        InstanceState s = running().apply(InstanceLostRecorded.newBuilder().setHost("h1").setReason("host h1 left").build());
        assertEquals(Phase.LOST, s.phase());
        assertEquals("host h1 left", s.lostReason());
        s = s.apply(restore("h2", 2, "")).apply(RestoreSagaCompleted.newBuilder().setRestoreId("r1").setHost("h2")
                .setEpoch(2).build());
        assertEquals(Phase.RUNNING, s.phase());
        assertEquals("h2", s.host());
        assertEquals(2, s.epoch());
        assertEquals("", s.lostReason());
    }

    @Test
    void aFailedRestoreOfAStoppedInstanceLeavesItLostAtTheRaisedEpoch() {
        InstanceState s = running().apply(restore("h1", 2, "h1"))
                .apply(RestoreSagaFailed.newBuilder().setRestoreId("r1").setReason("disk full").build());
        assertEquals(Phase.LOST, s.phase());
        assertEquals(2, s.epoch(), "an older copy anywhere is fenced");
        assertEquals("restore failed: disk full", s.lostReason());
    }

    @Test
    void aRestoreThatNeverStoppedTheInstanceLeavesItRunningWhereItWas() {
        InstanceState s = running().apply(restore("h2", 2, "h1"))
                .apply(RestoreSagaFailed.newBuilder().setRestoreId("r1").setReason("h1 did not answer").setUntouched(true).build());
        assertEquals(Phase.RUNNING, s.phase());
        assertEquals("h1", s.host());
        assertEquals(1, s.epoch());
    }

    @Test
    void eventsThatDoNotFitThePhaseAreRefused() {
        assertThrows(IllegalStateException.class, () -> InstanceState.empty("x").apply(restore("h1", 1, "")));
        assertThrows(IllegalStateException.class, () -> running().apply(RestoreSagaCompleted.newBuilder().build()));
        InstanceState lost = running().apply(InstanceLostRecorded.newBuilder().build());
        assertThrows(IllegalStateException.class, () -> lost.apply(MigrationSagaStarted.newBuilder().build()));
    }
}
