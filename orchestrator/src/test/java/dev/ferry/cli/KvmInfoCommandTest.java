package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class KvmInfoCommandTest {
    @Test
    @RequiresKvmHere
    void printsApiVersionAndCapabilities() {
        CliRun r = CliRun.of("kvm-info");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().startsWith("KVM API version 12\n"), r.out());
        assertTrue(r.out().contains("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2") && r.out().contains("KVM_CAP_IMMEDIATE_EXIT"));
    }

    /** A machine without KVM, simulated by pointing Ferry at a device path that does not exist, in a fresh JVM. */
    @Test
    void withoutKvmEveryCommandSaysSoAndExitsThree() throws Exception {
        for (List<String> args : List.of(List.of("kvm-info"), List.of("run", "--guest", "heartbeat", "--seconds", "1"))) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new java.util.ArrayList<>(List.of(java, "-Dferry.kvm.device=/nonexistent/kvm",
                    "-cp", System.getProperty("java.class.path"), FerryCli.class.getName()));
            cmd.addAll(args);
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(60, TimeUnit.SECONDS));
                assertEquals(FerryCli.KVM_UNAVAILABLE, p.exitValue(), err);
                assertTrue(err.contains("no /nonexistent/kvm on this machine: KVM is not available"), err);
            } finally {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
