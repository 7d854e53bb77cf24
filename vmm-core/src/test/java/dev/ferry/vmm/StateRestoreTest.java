package dev.ferry.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.state.MachineState;
import dev.ferry.vmm.state.VcpuState;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.Guests.Beat;
import dev.ferry.vmm.testing.RequiresKvm;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

@RequiresKvm
class StateRestoreTest {
    @Test
    void restoredGuestKeepsCountingWithTheSameMemoryAndAClockThatNeverGoesBack() throws Exception {
        long memory = 64 * Guests.MIB;
        MachineState state;
        long checksum;
        Beat last;
        Vm restored;
        try (Vm source = Guests.boot("heartbeat", memory, "interval_ms=50")) {
            source.start();
            Guests.awaitBeats(source, 4, 10_000);
            source.pause();
            List<Beat> before = Guests.beats(source.console().recentLines());
            last = before.get(before.size() - 1);
            state = source.captureMachineState();
            checksum = source.memory().checksum();
            VcpuState v = state.vcpus().get(0);
            assertTrue(v.tsc() >= last.tsc(), "captured TSC " + v.tsc() + " is before the last beat " + last.tsc());
            assertEquals(0x23, v.sregs().cs().selector(), "captured at CPL 3 in the guest's code segment");

            restored = Hypervisor.get().restore("restored", memory, state, ConsoleOutput.continuing(source.console()));
            source.memory().copyNonZeroPagesTo(restored.memory());
        }
        try (Vm vm = restored) {
            assertEquals(checksum, vm.memory().checksum(), "restored memory differs from the source");
            MachineState again = vm.captureMachineStateBeforeStart();
            assertEquals(state.vcpus().get(0).regs(), again.vcpus().get(0).regs());
            assertTrue(Arrays.equals(state.vcpus().get(0).lapic(), again.vcpus().get(0).lapic()), "LAPIC differs");
            vm.start();
            List<Beat> after = Guests.awaitBeats(vm, 3, 10_000);
            Beat first = after.get(0);
            assertEquals(last.seq() + 1, first.seq(), "the restored guest continues the count");
            assertTrue(first.tsc() > last.tsc(), "guest clock went backward: " + first.tsc() + " <= " + last.tsc());
            for (int i = 1; i < after.size(); i++) {
                assertEquals(first.seq() + i, after.get(i).seq());
                assertTrue(after.get(i).tsc() > after.get(i - 1).tsc());
            }
        }
    }

    @Test
    void restoredSumsMatchAFreshRunBeatForBeat() throws Exception {
        long memory = 32 * Guests.MIB;
        List<Beat> reference;
        try (Vm fresh = Guests.boot("heartbeat", memory, "interval_ms=10", "count=12")) {
            fresh.start();
            fresh.result().join();
            reference = Guests.beats(fresh.console().recentLines());
        }
        Vm restored;
        try (Vm source = Guests.boot("heartbeat", memory, "interval_ms=10", "count=12")) {
            source.start();
            Guests.awaitBeats(source, 5, 10_000);
            source.pause();
            restored = Hypervisor.get().restore("restored", memory, source.captureMachineState(),
                    ConsoleOutput.continuing(source.console()));
            source.memory().copyNonZeroPagesTo(restored.memory());
        }
        try (Vm vm = restored) {
            vm.start();
            vm.result().join();
            for (Beat b : Guests.beats(vm.console().recentLines())) {
                assertEquals(reference.get((int) b.seq()).sum(), b.sum(), "sum of beat " + b.seq());
            }
            assertEquals(new VmResult.Exited(0), vm.result().join());
        }
    }
}
