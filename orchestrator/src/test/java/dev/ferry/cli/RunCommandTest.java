package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RunCommandTest {
    private static final Pattern BEAT = Pattern.compile("heartbeat seq=(\\d+) tsc=\\d+ sum=[0-9a-f]+");

    @Test
    @RequiresKvmHere
    void runsHeartbeatForTheGivenSecondsAndExitsZero() {
        long t0 = System.nanoTime();
        CliRun r = CliRun.of("run", "--guest", "heartbeat", "--memory", "256M", "--seconds", "1.2");
        double secs = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.size() >= 4 && lines.size() <= 6, "expected ~5 beats in 1.2 s: " + lines);
        for (int i = 0; i < lines.size(); i++) {
            var m = BEAT.matcher(lines.get(i));
            assertTrue(m.matches(), "not a heartbeat line: " + lines.get(i));
            assertEquals(i, Integer.parseInt(m.group(1)));
        }
        assertTrue(secs >= 1.1 && secs < 5, "ran " + secs + " s");
    }

    @Test
    @RequiresKvmHere
    void passesGuestArguments() {
        CliRun r = CliRun.of("run", "--guest", "heartbeat", "--memory", "64M", "--arg", "interval_ms=10", "--arg", "count=3");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(3, r.out().lines().count());
    }

    @Test
    @RequiresKvmHere
    void guestFailureIsReportedWithRegistersAndExitCodeOne() {
        CliRun r = CliRun.of("run", "--guest", "faulty", "--memory", "16M");
        assertEquals(FerryCli.GUEST_FAILED, r.exitCode());
        assertTrue(r.err().contains("KVM_EXIT_SHUTDOWN") && r.err().contains("rip="), r.err());
    }

    @Test
    void unknownGuestIsRefusedNamingTheBuiltInOnes() {
        CliRun r = CliRun.of("run", "--guest", "nosuch", "--seconds", "1");
        assertEquals(FerryCli.USAGE, r.exitCode());
        assertTrue(r.err().contains("unknown guest 'nosuch'") && r.err().contains("heartbeat"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void memoryThatIsNotWholePagesIsRefused() {
        CliRun r = CliRun.of("run", "--guest", "heartbeat", "--memory", "1000001");
        assertEquals(FerryCli.USAGE, r.exitCode());
        assertTrue(r.err().contains("not a multiple of 4 KiB"), r.err());
    }

    @Test
    void memoryBeyondWhatCanBeMappedIsRefused() {
        CliRun r = CliRun.of("run", "--guest", "heartbeat", "--memory", "100T");
        assertEquals(FerryCli.USAGE, r.exitCode());
        assertTrue(r.err().contains("exceeds the largest guest"), r.err());
    }

    @Test
    void unparsableMemoryIsRefused() {
        CliRun r = CliRun.of("run", "--guest", "heartbeat", "--memory", "lots");
        assertEquals(FerryCli.USAGE, r.exitCode());
        assertTrue(r.err().contains("'lots' is not a memory size"), r.err());
    }

    @Test
    void malformedGuestArgumentIsRefused() {
        CliRun r = CliRun.of("run", "--guest", "heartbeat", "--arg", "bad key=1");
        assertEquals(FerryCli.USAGE, r.exitCode());
        assertTrue(r.err().contains("guest argument name"), r.err());
    }
}
