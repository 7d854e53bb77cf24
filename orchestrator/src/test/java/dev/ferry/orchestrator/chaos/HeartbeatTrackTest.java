package dev.ferry.orchestrator.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class HeartbeatTrackTest {
    @Test
    void aCopyThatKeepsCountingAndAMigrationThatContinuesPass() {
        HeartbeatTrack t = new HeartbeatTrack("i1");
        assertNull(t.observe("h1", 1, List.of(0L, 1L, 2L)));
        assertNull(t.observe("h1", 1, List.of(1L, 2L, 3L, 4L)));
        assertNull(t.observe("h2", 2, List.of(6L, 7L)), "beats 5 went by on h1 between two looks");
        assertEquals(7, t.last());
        assertEquals(2, t.copies());
    }

    @Test
    void aRepeatedOrSkippedBeatWithinACopyIsBroken() {
        HeartbeatTrack t = new HeartbeatTrack("i1");
        assertTrue(t.observe("h1", 1, List.of(3L, 4L, 4L)).contains("seq 4 is followed by 4"));
        assertNotNull(new HeartbeatTrack("i1").observe("h1", 1, List.of(3L, 5L)));
    }

    @Test
    void aNewCopyThatStartsBackWithoutACheckpointIsBroken() {
        HeartbeatTrack t = new HeartbeatTrack("i1");
        t.observe("h1", 1, List.of(10L, 11L, 12L));
        assertTrue(t.observe("h2", 2, List.of(12L, 13L)).contains("starts at heartbeat 12 after 12"));
    }

    @Test
    void aRestoreGoesBackToWhereACheckpointWasTaken() {
        HeartbeatTrack t = new HeartbeatTrack("i1");
        t.observe("h1", 1, List.of(10L, 11L, 12L));
        t.checkpointed(12, 13);
        t.observe("h1", 1, List.of(12L, 13L, 14L, 15L, 16L, 17L));
        assertNull(t.observe("h3", 2, List.of(14L, 15L)));
        assertNotNull(t.observe("h2", 3, List.of(5L, 6L)), "no checkpoint had 5");
    }

    @Test
    void aRestoreFromACheckpointThatSaysWhereTheGuestWasMustStartOneBeatLater() {
        HeartbeatTrack t = new HeartbeatTrack("i1");
        t.observe("h1", 1, List.of(10L, 11L, 12L));
        t.checkpointed("c1", "heartbeat seq=12 tsc=5 sum=00", 12, 14);
        t.observe("h1", 1, List.of(13L, 14L, 15L));
        t.restored(2, "c1");
        assertNull(t.observe("h2", 2, List.of(13L, 14L)));
        t.restored(3, "c1");
        assertTrue(t.observe("h3", 3, List.of(14L, 15L)).contains("taken at heartbeat 12, but starts at 14"),
                "one beat lost between the capture and the restored console");
    }

    @Test
    void aRestoredCopyMigratedBeforeTheRunnerLookedContinuesFromItsCheckpoint() {
        HeartbeatTrack t = new HeartbeatTrack("i2");
        t.checkpointed("e12", "heartbeat seq=1379 tsc=1 sum=00", 1376, 1379);
        t.observe("h1", 13, List.of(1935L, 1936L, 1937L));
        t.restored(14, "e12");
        // h3@14 printed 1380..1384 unseen, then migrated to h2 at epoch 15
        assertNull(t.observe("h2", 15, List.of(1385L, 1386L)));
        t.restored(16, "e12");
        assertNotNull(t.observe("h1", 17, List.of(1379L, 1380L)), "before the checkpoint it came from");
    }

    @Test
    void aRestoreWhoseAnswerWasLostIsJudgedByTheCheckpointsTaken() {
        HeartbeatTrack t = new HeartbeatTrack("i1");
        t.checkpointed("c1", "heartbeat seq=20 tsc=1 sum=00", 20, 21);
        t.observe("h1", 1, List.of(30L, 31L));
        assertNull(t.observe("h2", 2, List.of(21L, 22L)));
        HeartbeatTrack u = new HeartbeatTrack("i1");
        u.checkpointed("c1", "heartbeat seq=20 tsc=1 sum=00", 20, 21);
        u.observe("h1", 1, List.of(30L, 31L));
        assertNotNull(u.observe("h2", 2, List.of(25L, 26L)), "no copy between to have counted from 21 to 25");
    }

    @Test
    void anOlderCopyReadAfterANewerOneIsLeftToTheSingleCopyCheck() {
        HeartbeatTrack t = new HeartbeatTrack("i1");
        t.observe("h2", 5, List.of(40L, 41L));
        assertNull(t.observe("h1", 4, List.of(38L, 39L)));
        assertEquals(41, t.last());
    }

    @Test
    void goingBackWithinOneCopyIsBroken() {
        HeartbeatTrack t = new HeartbeatTrack("i1");
        t.observe("h1", 1, List.of(10L, 11L, 12L));
        assertTrue(t.observe("h1", 1, List.of(7L, 8L)).contains("went back from 12 to 8"));
    }

    @Test
    void seqsAreReadFromConsoleLines() {
        assertEquals(List.of(4L, 5L), HeartbeatTrack.seqs(List.of("boot", "heartbeat seq=4 tsc=1 sum=00",
                "heartbeat seq=5 tsc=2 sum=01", "heartbeat seq=")));
    }

    @Test
    void diskErrorsTheGuestWasToldAboutAreNotViolationsButCorruptRecordsAre() {
        DiskTrack d = new DiskTrack("d1");
        assertEquals(List.of(), d.observe("h1@1", List.of("disk pass=1 written=64 verified=64 errors=0")));
        assertEquals(1, d.passes());
        assertEquals(List.of(), d.observe("h1@1", List.of("disk ERROR record=3 write_status expected=0 got=1 ",
                "disk ERROR record=3 lost_write expected=2 got=1 ")));
        assertEquals(2, d.reportedErrors());
        List<String> broken = d.observe("h1@1", List.of("disk ERROR record=9 checksum expected=1 got=2 "));
        assertEquals(1, broken.size());
        assertTrue(broken.get(0).contains("checksum"));
        assertEquals(List.of(), d.observe("h1@1", List.of("disk ERROR record=9 checksum expected=1 got=2 ")),
                "each line counts once");
        assertEquals(1, new DiskTrack("d2").observe("h1@1", List.of("disk ERROR record=1 lost_write expected=2 got=0 "))
                .size(), "a lost write nobody was told about");
    }
}
