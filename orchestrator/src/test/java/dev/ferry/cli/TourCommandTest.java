package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TourCommandTest {
    @Test
    @RequiresKvmHere
    void tourMovesARunningGuestAndEveryStepSucceeds() {
        CliRun r = CliRun.of("tour", "--memory", "64M", "--phase-seconds", "0.4");
        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().contains("heartbeat continues"), r.out());
        assertTrue(r.out().contains("[b] heartbeat seq="), "the restored VM printed heartbeats: " + r.out());
        assertFalse(r.out().contains(" NO"), r.out());
    }
}
