package dev.ferry.orchestrator.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ferry.host.local.NetworkNamespace;
import dev.ferry.vmm.testing.RequiresKvm;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short chaos run against real JVMs with every fault: it must inject what it planned, break no invariant and leave
 * nothing behind, except a second copy of an instance planted behind the orchestrator's back, which the checker must
 * report. Partitions need root and iproute2: without them the first run fails with the reason, or
 * leaves partitions out when FERRY_ALLOW_NO_NETNS is set.
 */
@RequiresKvm
class ChaosIT {
    @TempDir
    Path dir;

    private static Set<FaultKind> everyFault() {
        Set<FaultKind> all = EnumSet.allOf(FaultKind.class);
        if (!NetworkNamespace.isAvailable()) {
            String why = "no network namespaces on this machine: " + NetworkNamespace.unavailabilityCause();
            if (System.getenv("FERRY_ALLOW_NO_NETNS") == null) {
                fail(why + " (set FERRY_ALLOW_NO_NETNS=1 to run without partitions)");
            }
            all.remove(FaultKind.PARTITION);
        }
        return all;
    }

    private static ChaosRun.Result run(ChaosRun run) throws Exception {
        StringWriter w = new StringWriter();
        ChaosRun.Result r;
        try (PrintWriter out = new PrintWriter(w, true)) {
            r = run.run();
        }
        System.out.println(w);
        System.out.println(r.report());
        System.out.println(r.json());
        return r;
    }

    /**
     * One cluster (the machine is small): the schedule of seed 11 with every fault, then, at the end of the schedule, a
     * second copy of i1 started directly on another host. Everything but that copy must pass; that copy must be caught.
     */
    @Test
    void everyFaultBreaksNoInvariantLeavesNothingBehindAndAPlantedSecondCopyIsCaught() throws Exception {
        ChaosOptions o = new ChaosOptions(3, 3, Duration.ofSeconds(45), 11, everyFault(), dir.resolve("run"));
        Schedule s = Schedule.plan(o);
        ChaosRun.Result r = run(new ChaosRun(o, new PrintWriter(System.out, true)).plantStrayCopy(44_000, "i1"));
        for (FaultKind k : s.faultCounts().keySet()) {
            assertTrue(r.injected().get(k) > 0, k + " was planned and injected: " + r.report());
        }
        assertTrue(r.injected().values().stream().mapToLong(Long::longValue).sum() >= 3, r.report());
        assertTrue(r.opsOk() > 5, r.report());
        assertEquals(1, r.exitCode(), r.report());
        assertTrue(r.violations().stream().anyMatch(v -> v.invariant().equals("single-copy")
                && v.detail().startsWith("i1 runs on")), "the planted copy was caught: " + r.report());
        assertTrue(r.violations().stream().allMatch(v -> v.detail().contains("i1") && !v.invariant().equals("settled")
                && !v.invariant().equals("nothing-leaked")), "nothing but the planted copy broke anything: " + r.report());
        assertTrue(r.json().contains("\"nothing-leaked\":{\"passed\":1,\"failed\":0}"), r.json());
        String netns = new String(new ProcessBuilder("ip", "netns", "list").start().getInputStream().readAllBytes(),
                StandardCharsets.UTF_8);
        assertTrue(!netns.contains("ferry-" + ProcessHandle.current().pid() + "-"), "namespaces left: " + netns);
    }
}
