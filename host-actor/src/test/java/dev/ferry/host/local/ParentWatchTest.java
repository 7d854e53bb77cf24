package dev.ferry.host.local;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ParentWatchTest {
    /** Stands in for a node: watches its parent as a node's main does, and ends on its own after a minute. */
    public static final class Probe {
        public static void main(String[] args) throws InterruptedException {
            ParentWatch.startIfAsked("probe");
            System.out.println(READY);
            System.out.flush();
            Thread.sleep(60_000);
        }
    }

    private static final String READY = "probe ready";
    private final List<ProcessHandle> started = new ArrayList<>();

    @AfterEach
    void reap() {
        for (ProcessHandle p : started) {
            p.destroyForcibly();
        }
    }

    /** A shell (the starter) runs a probe JVM as its child, passing its own pid when {@code watch}; returns the probe. */
    private ProcessHandle probeUnderShell(boolean watch, Process[] shell) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String property = watch ? "-D" + ParentWatch.PROPERTY + "=$$" : "-Dunwatched=$$";
        shell[0] = new ProcessBuilder("bash", "-c", "\"$0\" " + property + " -cp \"$1\" \"$2\" & echo $!; wait", java,
                System.getProperty("java.class.path"), Probe.class.getName()).redirectErrorStream(true).start();
        started.add(shell[0].toHandle());
        BufferedReader out = new BufferedReader(new InputStreamReader(shell[0].getInputStream(), StandardCharsets.UTF_8));
        // the shell's echo of the probe's pid, and the probe's word that it is up (in either order)
        String first = out.readLine();
        String second = out.readLine();
        String pid = READY.equals(first) ? second : first;
        assertTrue(READY.equals(first) || READY.equals(second), "the probe came up: " + first + " / " + second);
        ProcessHandle probe = ProcessHandle.of(Long.parseLong(pid.trim())).orElseThrow();
        started.add(probe);
        return probe;
    }

    @Test
    void aNodeStopsOnceTheProcessThatStartedItIsKilled() throws Exception {
        Process[] shell = new Process[1];
        ProcessHandle probe = probeUnderShell(true, shell);
        Thread.sleep(1000);
        assertTrue(probe.isAlive(), "the probe runs while its starter does");
        shell[0].destroyForcibly();   // SIGKILL: no hook of the starter's runs
        probe.onExit().get(15, TimeUnit.SECONDS);
        assertFalse(probe.isAlive());
    }

    @Test
    void aNodeStartedToOutliveItsStarterRunsOn() throws Exception {
        Process[] shell = new Process[1];
        ProcessHandle probe = probeUnderShell(false, shell);
        shell[0].destroyForcibly();
        shell[0].waitFor(10, TimeUnit.SECONDS);
        Thread.sleep(2000);
        assertTrue(probe.isAlive(), "without the property the probe outlives its starter");
        assertTrue(probe.parent().isEmpty() || probe.parent().get().pid() != shell[0].pid(), "the probe was handed on");
    }

    @Test
    void theStarterIsTheParentOfAProcessItStarted() {
        assertTrue(ParentWatch.parentIs(ProcessHandle.current().parent().orElseThrow().pid()));
        assertFalse(ParentWatch.parentIs(ProcessHandle.current().pid()));
    }
}
