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
import java.util.List;
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
     * One cluster (the machine is small): the schedule of seed 3, which has every kind of fault in 45 s, then, once the
     * cluster has settled, a second copy of an instance started directly on another host. Everything but that copy must
     * pass; that copy must be caught.
     */
    @Test
    void everyFaultBreaksNoInvariantLeavesNothingBehindAndAPlantedSecondCopyIsCaught() throws Exception {
        ChaosOptions o = new ChaosOptions(3, 3, Duration.ofSeconds(45), 3, everyFault(), dir.resolve("run"));
        Schedule s = Schedule.plan(o);
        ChaosRun chaos = new ChaosRun(o, new PrintWriter(System.out, true)).plantStrayCopy();
        ChaosRun.Result r = run(chaos);
        String stray = chaos.strayInstance();
        assertTrue(!stray.isEmpty(), "a copy was planted: " + r.report());
        assertEquals(o.faults(), s.faultCounts().keySet(), "every kind is planned");
        // A fault that takes a node waits for the node taken by the one before to be back; on a slow machine the run
        // may end first (the report says so). At least three kinds must have struck.
        assertTrue(r.injected().values().stream().filter(n -> n > 0).count() >= 3, r.report());
        assertTrue(r.opsOk() > 5, r.report());
        assertEquals(1, r.exitCode(), r.report());
        assertTrue(r.violations().stream().anyMatch(v -> v.invariant().equals("single-copy")
                && v.detail().startsWith(stray + " runs on")), "the planted copy was caught: " + r.report());
        assertTrue(r.violations().stream().allMatch(v -> v.detail().contains(stray) && !v.invariant().equals("settled")
                && !v.invariant().equals("nothing-leaked")), "nothing but the planted copy broke anything: " + r.report());
        assertTrue(r.json().contains("\"nothing-leaked\":{\"passed\":1,\"failed\":0}"), r.json());
        String netns = new String(new ProcessBuilder("ip", "netns", "list").start().getInputStream().readAllBytes(),
                StandardCharsets.UTF_8);
        assertTrue(!netns.contains("ferry-" + ProcessHandle.current().pid() + "-"), "namespaces left: " + netns);
    }

    /**
     * A second seed, with nothing planted: a full disk under a deployment, the destination killed in the middle of a
     * migration, and a delay on the storage link, in 30 s; every invariant must hold and the run must exit 0.
     */
    @Test
    void anotherSeedsFaultsBreakNoInvariant() throws Exception {
        ChaosOptions o = new ChaosOptions(3, 3, Duration.ofSeconds(30), 9, everyFault(), dir.resolve("run9"));
        ChaosRun.Result r = run(new ChaosRun(o, new PrintWriter(System.out, true)));
        assertEquals(List.of(), r.violations(), r.report());
        assertEquals(0, r.exitCode(), r.report());
        assertTrue(r.injected().values().stream().filter(n -> n > 0).count() >= 2, r.report());
        assertTrue(r.json().contains("\"nothing-leaked\":{\"passed\":1,\"failed\":0}"), r.json());
    }
}
