package dev.ferry.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.devices.virtio.VirtioMmioDevice;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import dev.ferry.vmm.trap.TrapRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@RequiresKvm
class DiskGuestTest {
    private static final long NOTIFY = Hypervisor.VIRTIO_BLK_BASE + 0x50;

    @TempDir
    Path dir;

    private Vm boot(Path image, String... args) {
        Map<String, String> a = new java.util.HashMap<>();
        for (String kv : args) {
            a.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        return Hypervisor.get().boot(VmConfig.of("disk", 64 * Guests.MIB, a).withDisk(image));
    }

    private static VirtioMmioDevice disk(Vm vm) {
        return (VirtioMmioDevice) vm.activeDevices().get(0);
    }

    @Test
    void writesAndVerifiesRecordsWithDoorbellsThatNeverExitWhileOff() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[1 << 20]);
        try (Vm vm = boot(image, "records=512", "passes=3", "depth=8")) {
            vm.start();
            VmResult r = vm.awaitResult(Duration.ofSeconds(60)).orElseThrow();
            List<String> lines = vm.console().recentLines();
            assertEquals(new VmResult.Exited(0), r, String.join("\n", lines));
            assertTrue(lines.stream().noneMatch(l -> l.contains("ERROR")), String.join("\n", lines));
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("disk pass=3 ") && l.contains("errors=0")), lines.toString());
            long served = disk(vm).requestsServed();
            long mmioExits = vm.vcpus().get(0).mmioExits();
            assertTrue(served > 3 * 2 * 512, "requests served: " + served);
            assertTrue(mmioExits < 200, "doorbells exited to the VMM while OFF: " + mmioExits + " MMIO exits for "
                    + served + " requests");
        }
    }

    @Test
    void doorbellsAreTrappedWhileOnAndTheGuestStillVerifiesEverything() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[1 << 20]);
        try (Vm vm = boot(image, "records=256", "passes=2", "depth=4")) {
            vm.setVirtualization(Virtualization.ON);
            vm.start();
            VmResult r = vm.awaitResult(Duration.ofSeconds(60)).orElseThrow();
            assertEquals(new VmResult.Exited(0), r, String.join("\n", vm.console().recentLines()));
            List<TrapRecord> notifies = vm.trapLog().since(0).stream().filter(t -> t.address() == NOTIFY).toList();
            assertTrue(notifies.size() > 10, "notifies trapped while ON: " + notifies.size());
        }
    }

    @Test
    void aSecondRunVerifiesWhatTheFirstWrote() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[1 << 20]);
        for (int run = 0; run < 2; run++) {
            try (Vm vm = boot(image, "records=128", "passes=1")) {
                vm.start();
                assertEquals(new VmResult.Exited(0), vm.awaitResult(Duration.ofSeconds(60)).orElseThrow());
                if (run == 1) {
                    assertTrue(vm.console().recentLines().stream().anyMatch(l -> l.contains("found generation 1")),
                            vm.console().recentLines().toString());
                }
            }
        }
    }
}
