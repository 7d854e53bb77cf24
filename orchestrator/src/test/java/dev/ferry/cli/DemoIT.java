package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's main job, end to end: a 3-host cluster of JVMs, every step succeeds, nothing is left running. */
class DemoIT {
    @TempDir
    Path dir;

    @Test
    @RequiresKvmHere
    void demoRunsEveryStepOnAThreeHostClusterAndStopsEverything() {
        long before = ProcessHandle.current().descendants().count();
        CliRun r = CliRun.of("demo", "--memory", "128M", "--dir", dir.resolve("demo").toString());
        assertEquals(0, r.exitCode(), r.out() + r.err());
        for (String step : new String[] {"cluster up", "live migration h1 -> h3: downtime", "web's heartbeat continues on h3",
            "checkpoint batch", "restore batch onto h3", "evacuate h3 (2 instances)", "web runs once, as registered",
            "batch runs once, as registered"}) {
            assertTrue(r.out().contains(step), "the summary has '" + step + "': " + r.out());
        }
        assertTrue(r.out().contains("every step succeeded"), r.out());
        assertFalse(r.out().contains(" NO\n"), r.out());
        assertEquals(before, ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count(),
                "every node the demo started is gone");
    }
}
