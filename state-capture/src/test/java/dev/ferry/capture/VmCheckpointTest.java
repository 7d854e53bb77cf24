package dev.ferry.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.capture.checkpoint.CheckpointReader;
import dev.ferry.capture.checkpoint.WriteReport;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import dev.ferry.vmm.VmResult;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@RequiresKvm
class VmCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void diskGuestRestoredFromAnIncrementalChainVerifiesEveryRecord() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[2 << 20]);
        Path full = dir.resolve("a.ferry");
        Path incr = dir.resolve("b.ferry");
        long memory = 64L << 20;
        try (Vm vm = Hypervisor.get().boot(VmConfig.of("disk", memory,
                Map.of("records", "1024", "passes", "8", "depth", "8")).withDisk(image))) {
            VmCheckpointer checkpointer = VmCheckpointer.attach(vm, "disk", image);
            vm.start();
            assertTrue(vm.console().awaitLine("disk pass=1", 20_000) != null);
            WriteReport first = checkpointer.checkpoint(full, true);
            assertTrue(vm.console().awaitLine("disk pass=3", 20_000) != null);
            WriteReport second = checkpointer.checkpoint(incr, false);
            assertTrue(second.memory().pages() < first.memory().pages(),
                    "incremental holds fewer pages: " + second.memory() + " vs " + first.memory());
            assertTrue(CheckpointReader.info(incr).meta().isIncremental());
        }
        ConsoleOutput console = new ConsoleOutput();
        try (Vm vm = VmRestore.restore(incr, console, null)) {
            vm.start();
            VmResult r = vm.awaitResult(Duration.ofSeconds(60)).orElseThrow();
            List<String> lines = console.recentLines();
            assertEquals(new VmResult.Exited(0), r, String.join("\n", lines));
            assertTrue(lines.stream().noneMatch(l -> l.contains("ERROR")), String.join("\n", lines));
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("disk pass=8 ") && l.contains("errors=0")),
                    String.join("\n", lines));
        }
    }

    @Test
    void heartbeatRestoredFromAFullCheckpointContinuesItsCountFromTheLineTheReportNames() throws Exception {
        Path file = dir.resolve("hb.ferry");
        Guests.Beat last;
        try (Vm vm = Guests.boot("heartbeat", 32L << 20, "interval_ms=20")) {
            VmCheckpointer checkpointer = VmCheckpointer.attach(vm, "heartbeat", null);
            vm.start();
            Guests.awaitBeats(vm, 3, 10_000);
            var report = checkpointer.checkpoint(file, false);
            List<Guests.Beat> beats = Guests.beats(vm.console().recentLines());
            last = beats.get(beats.size() - 1);
            assertEquals(List.of(last), Guests.beats(List.of(report.consoleTail())),
                    "the report names the last line the guest completed before it was paused");
        }
        ConsoleOutput console = new ConsoleOutput();
        try (Vm vm = VmRestore.restore(file, console, null)) {
            vm.start();
            assertTrue(console.awaitLine("heartbeat seq=", 10_000) != null);
            Guests.Beat first = Guests.beats(console.recentLines()).get(0);
            assertEquals(last.seq() + 1, first.seq());
            assertTrue(first.tsc() > last.tsc());
        }
    }
}
