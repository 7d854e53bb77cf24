package dev.ferry.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.capture.restore.Handling;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.restore.StateItem;
import dev.ferry.capture.shadow.DeviceCapture;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import dev.ferry.vmm.VmResult;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.devices.virtio.VirtioMmioDevice;
import dev.ferry.vmm.state.MachineState;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running disk guest is moved into a new VM with its devices rebuilt only from what the hypervisor trapped and read
 * back: virtualization was OFF while the driver set the device up, so everything comes from the resync at ON.
 */
@RequiresKvm
class DeviceRestoreTest {
    private static final long MEMORY = 64L << 20;

    @TempDir
    Path dir;

    @Test
    void diskGuestContinuesInANewVmAfterAnOffPeriodAndEveryRecordVerifies() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[2 << 20]);
        Map<String, String> args = Map.of("records", "1024", "passes", "6", "depth", "8");
        Vm restored;
        List<RestorePlan> plans;
        try (Vm source = Hypervisor.get().boot(VmConfig.of("disk", MEMORY, args).withDisk(image))) {
            DeviceCapture capture = VmDeviceCapture.attach(source);
            source.start();
            assertTrue(source.console().awaitLine("disk pass=1", 20_000) != null, "first pass");
            source.setVirtualization(Virtualization.ON);
            assertEquals(1, capture.resyncs() - 1, "one resync after the OFF period");
            Thread.sleep(50);
            source.pause();
            plans = capture.plans();
            MachineState machine = source.captureMachineState();
            restored = Hypervisor.get().restore("restored", MEMORY, machine, new ConsoleOutput(), image);
            source.memory().copyNonZeroPagesTo(restored.memory());
            long served = ((VirtioMmioDevice) source.activeDevices().get(0)).requestsServed();
            assertTrue(served > 0);
        }
        RestorePlan disk = plans.stream().filter(p -> p.device().equals(VmDeviceCapture.DISK)).findFirst().orElseThrow();
        List<StateItem> report = disk.report();
        assertTrue(report.stream().anyMatch(i -> i.handling() == Handling.READ_BACK && i.state().endsWith("QueueDesc")),
                report.toString());
        assertTrue(report.stream().anyMatch(i -> i.handling() == Handling.DERIVED_FROM_MEMORY), report.toString());
        try (Vm vm = restored) {
            VmDeviceCapture.restore(vm, plans);
            vm.start();
            VmResult r = vm.awaitResult(Duration.ofSeconds(60)).orElseThrow();
            List<String> lines = vm.console().recentLines();
            assertEquals(new VmResult.Exited(0), r, String.join("\n", lines));
            assertTrue(lines.stream().noneMatch(l -> l.contains("ERROR")), String.join("\n", lines));
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("disk pass=6 ") && l.contains("errors=0")),
                    String.join("\n", lines));
            assertTrue(((VirtioMmioDevice) vm.activeDevices().get(0)).requestsServed() > 0,
                    "the restored device served the rest of the run");
        }
    }

    @Test
    void uartRegistersSetWhileOffAreReadBackAndRestored() throws Exception {
        Vm restored;
        List<RestorePlan> plans;
        try (Vm source = Hypervisor.get().boot(VmConfig.of("heartbeat", MEMORY, Map.of("interval_ms", "20")))) {
            DeviceCapture capture = VmDeviceCapture.attach(source);
            source.start();
            assertTrue(source.console().awaitLine("heartbeat seq=1", 10_000) != null);
            source.setVirtualization(Virtualization.ON);
            source.pause();
            plans = capture.plans();
            restored = Hypervisor.get().restore("restored", MEMORY, source.captureMachineState(),
                    ConsoleOutput.continuing(source.console()));
            source.memory().copyNonZeroPagesTo(restored.memory());
            assertEquals(source.uart().state().lcr(), 0x03, "the runtime leaves 8N1 with DLAB off");
        }
        try (Vm vm = restored) {
            VmDeviceCapture.restore(vm, plans);
            var s = vm.uart().state();
            assertEquals(1, s.dll(), "divisor latch set by the guest while OFF");
            assertEquals(0x03, s.lcr());
            assertEquals(0x0b, s.mcr());
            vm.start();
            assertTrue(vm.console().awaitLine("heartbeat seq=", 10_000) != null);
        }
    }
}
