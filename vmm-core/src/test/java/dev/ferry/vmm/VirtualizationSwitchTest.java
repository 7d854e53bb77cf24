package dev.ferry.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import dev.ferry.vmm.trap.AccessDirection;
import dev.ferry.vmm.trap.TrapListener;
import dev.ferry.vmm.trap.TrapRecord;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

@RequiresKvm
class VirtualizationSwitchTest {
    /** Collects what a listener is told, in order. */
    private static final class Collector implements TrapListener {
        final List<TrapRecord> records = new ArrayList<>();
        final List<String> switches = new ArrayList<>();

        @Override
        public synchronized void onAccess(TrapRecord r) {
            records.add(r);
        }

        @Override
        public synchronized void onVirtualizationOn(long nextSeq) {
            switches.add("on@" + nextSeq);
        }

        @Override
        public synchronized void onVirtualizationOff(long nextSeq) {
            switches.add("off@" + nextSeq);
        }

        synchronized List<TrapRecord> snapshot() {
            return List.copyOf(records);
        }
    }

    @Test
    void recordsNothingWhileOffAndEveryUartAccessWhileOn() throws Exception {
        Collector c = new Collector();
        try (Vm vm = Guests.boot("heartbeat", 64 * Guests.MIB, "interval_ms=50")) {
            vm.trapLog().addListener(c);
            vm.start();
            Guests.awaitBeats(vm, 3, 10_000);
            assertEquals(Virtualization.OFF, vm.virtualization());
            assertEquals(0, vm.trapLog().nextSeq(), "accesses were logged while OFF");

            vm.setVirtualization(Virtualization.ON);
            int beatsAtOn = Guests.beats(vm.console().recentLines()).size();
            Guests.awaitBeats(vm, beatsAtOn + 3, 10_000);
            vm.setVirtualization(Virtualization.OFF);
            long seqAtOff = vm.trapLog().nextSeq();
            Guests.awaitBeats(vm, beatsAtOn + 6, 10_000);
            assertEquals(seqAtOff, vm.trapLog().nextSeq(), "accesses were logged after switching OFF");

            List<TrapRecord> records = c.snapshot();
            assertEquals(seqAtOff, records.size(), "the listener saw every record");
            assertEquals(List.of("on@0", "off@" + seqAtOff), c.switches);
            StringBuilder transmitted = new StringBuilder();
            for (int i = 0; i < records.size(); i++) {
                TrapRecord r = records.get(i);
                assertEquals(i, r.seq(), "sequence numbers are dense and ordered");
                assertEquals(AddressSpace.PIO, r.space());
                boolean uart = r.address() >= 0x3F8 && r.address() <= 0x3FF;
                boolean platform = r.address() >= 0x500 && r.address() < 0x50C;
                assertTrue(uart || platform, "unexpected port in " + r);
                assertEquals(uart ? 1 : 4, r.width(), "width of " + r);
                if (i > 0) {
                    assertTrue(r.timeNanos() >= records.get(i - 1).timeNanos());
                }
                if (r.address() == 0x3F8 && r.direction() == AccessDirection.WRITE) {
                    transmitted.append((char) r.value());
                }
                if (r.address() == 0x3FD) {
                    assertEquals(AccessDirection.READ, r.direction());
                    assertTrue((r.value() & 0x20) != 0, "LSR reads as THR empty");
                }
            }
            assertTrue(transmitted.toString().contains("heartbeat seq=" + beatsAtOn + " tsc="),
                    "the trapped THR writes spell out the console: " + transmitted);
        }
    }

    @Test
    void switchesBothWaysWhileRunningPausingOnlyAFewMilliseconds() throws Exception {
        try (Vm vm = Guests.boot("dirtier", 1L << 30, "workset=256", "mode=word")) {
            vm.start();
            vm.console().awaitLine("dirtier workset_mib=", 10_000);
            List<Double> pauses = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                SwitchReport on = vm.setVirtualization(Virtualization.ON);
                assertEquals(Virtualization.ON, on.mode());
                Thread.sleep(30);
                SwitchReport off = vm.setVirtualization(Virtualization.OFF);
                assertEquals(Virtualization.OFF, off.mode());
                Thread.sleep(30);
                pauses.add(on.pausedMillis());
                pauses.add(off.pausedMillis());
            }
            assertTrue(vm.isRunning(), "the guest kept running: " + vm.result().getNow(null));
            List<Double> sorted = pauses.stream().sorted().toList();
            double median = sorted.get(sorted.size() / 2);
            // A switch re-registers every memory slot (dirty logging on or off): a few milliseconds for 1 GiB
            // with a 256 MiB working set. The bound leaves room for a loaded 2-core CI machine.
            assertTrue(median < 15, "median switch pause " + median + " ms; all: " + pauses);
            assertTrue(sorted.get(sorted.size() - 1) < 100, "slowest switch pause: " + pauses);
        }
    }

    @Test
    void trapLogKeepsRecordsForInspection() throws Exception {
        try (Vm vm = Guests.boot("heartbeat", 16 * Guests.MIB, "interval_ms=20")) {
            vm.setVirtualization(Virtualization.ON);
            vm.start();
            Guests.awaitBeats(vm, 2, 10_000);
            vm.pause();
            List<TrapRecord> kept = vm.trapLog().since(0);
            assertFalse(kept.isEmpty());
            assertEquals(vm.trapLog().nextSeq(), kept.get(kept.size() - 1).seq() + 1);
            // The runtime's UART init is the first thing the guest does: DLAB on, then the divisor latch.
            TrapRecord first = kept.get(0);
            assertEquals(0x3FB, first.address());
            assertEquals(0x80, first.value());
        }
    }

    @Test
    void trapsMmioAccessesWithWidthAndValueWhileOn() throws Exception {
        try (Vm vm = Guests.boot("mmio", 16 * Guests.MIB)) {
            vm.setVirtualization(Virtualization.ON);
            vm.start();
            assertEquals(new VmResult.Exited(0), vm.awaitResult(java.time.Duration.ofSeconds(10)).orElseThrow());
            List<String> mmio = vm.trapLog().since(0).stream().filter(r -> r.space() == AddressSpace.MMIO)
                    .map(r -> r.direction() + " 0x" + Long.toHexString(r.address()) + "/" + r.width() + "=0x"
                            + Long.toHexString(r.value()))
                    .toList();
            assertEquals(List.of("WRITE 0xd0000000/4=0xc0ffee01", "READ 0xd0000004/4=0xffffffff",
                    "WRITE 0xd0000010/1=0xa5", "WRITE 0xd0000010/8=0x1122334455667788"), mmio,
                    "unclaimed MMIO reads as all ones and every access is logged");
        }
    }
}
