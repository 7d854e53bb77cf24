package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DemoCommandTest {
    @Test
    @RequiresKvmHere
    void demoMovesARunningGuestAndEveryStepSucceeds() {
        CliRun r = CliRun.of("demo", "--memory", "64M", "--phase-seconds", "0.4");
        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().contains("heartbeat continues"), r.out());
        assertTrue(r.out().contains("[b] heartbeat seq="), "the restored VM printed heartbeats: " + r.out());
        assertFalse(r.out().contains(" NO"), r.out());
    }
}
