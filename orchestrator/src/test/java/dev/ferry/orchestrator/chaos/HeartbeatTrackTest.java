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
