package dev.ferry.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.bus.AccessContext;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.bus.BusDevice;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

@RequiresKvm
class ExitHandlingTest {
    @Test
    void tripleFaultEndsOnlyThatVmWithReasonAndRegisterDump() throws Exception {
        try (Vm vm = Guests.boot("faulty", 16 * Guests.MIB)) {
            vm.start();
            VmResult r = vm.awaitResult(Duration.ofSeconds(10)).orElseThrow();
            VmResult.Failed f = assertInstanceOf(VmResult.Failed.class, r);
            assertTrue(f.reason().contains("KVM_EXIT_SHUTDOWN"), f.reason());
            assertTrue(f.registerDump().contains("rip=") && f.registerDump().contains("cs=0023(dpl3)"), f.registerDump());
            assertTrue(vm.console().recentLines().contains("faulty: about to fault"));
        }
        // The host process is unharmed: another guest boots and finishes.
        try (Vm vm = Guests.boot("exiter", 16 * Guests.MIB)) {
            vm.start();
            assertEquals(new VmResult.Exited(0), vm.awaitResult(Duration.ofSeconds(10)).orElseThrow());
        }
    }

    /** A device in the MMIO hole that remembers every access and answers reads with a fixed value. */
    private static final class RecordingDevice implements BusDevice {
        final List<String> accesses = new ArrayList<>();

        @Override
        public String name() {
            return "recorder";
        }

        @Override
        public synchronized long read(AccessContext ctx, long offset, int width) {
            accesses.add("R" + width + "@" + offset);
            return 0x12345678L;
        }

        @Override
        public synchronized void write(AccessContext ctx, long offset, int width, long value) {
            accesses.add("W" + width + "@" + offset + "=" + Long.toHexString(value));
        }
    }

    @Test
    void mmioAccessesReachTheDeviceWithWidthAndValue() throws Exception {
        RecordingDevice dev = new RecordingDevice();
        try (Vm vm = Guests.boot("mmio", 16 * Guests.MIB)) {
            vm.attach(AddressSpace.MMIO, 0xD000_0000L, 0x1000, dev);
            vm.start();
            assertEquals(new VmResult.Exited(0), vm.awaitResult(Duration.ofSeconds(10)).orElseThrow());
            assertEquals(List.of("W4@0=c0ffee01", "R4@4", "W1@16=a5", "W8@16=1122334455667788"), dev.accesses);
            assertTrue(vm.console().recentLines().contains("mmio read=0x12345678"), vm.console().recentLines().toString());
            assertEquals(4, vm.vcpus().get(0).mmioExits());
        }
    }

    @Test
    void devicesCannotClaimOverlappingRanges() {
        try (Vm vm = Guests.boot("exiter", 16 * Guests.MIB)) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> vm.attach(AddressSpace.PIO, 0x3FC, 2, new RecordingDevice()));
            assertTrue(e.getMessage().contains("uart16550"), e.getMessage());
        }
    }
}
