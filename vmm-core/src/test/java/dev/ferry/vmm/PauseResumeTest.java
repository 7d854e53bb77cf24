package dev.ferry.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@RequiresKvm
class PauseResumeTest {
    private static long counterAddress(Vm vm) throws InterruptedException {
        String line = vm.console().awaitLine("spinner counter_at=", 10_000);
        assertTrue(line != null, "spinner did not print its counter address: " + vm.console().recentLines());
        return Long.decode(line.substring(line.indexOf('=') + 1).trim());
    }

    @Test
    void pausesAGuestThatNeverExitsWithinMilliseconds() throws Exception {
        try (Vm vm = Guests.boot("spinner", 16 * Guests.MIB)) {
            vm.start();
            long addr = counterAddress(vm);
            Thread.sleep(50);
            long worst = 0;
            for (int i = 0; i < 20; i++) {
                long nanos = vm.pause();
                worst = Math.max(worst, nanos);
                long a = vm.memory().readLong(addr);
                Thread.sleep(20);
                assertEquals(a, vm.memory().readLong(addr), "the counter moved while paused");
                vm.resume();
                Thread.sleep(10);
                assertTrue(vm.memory().readLong(addr) > a, "the counter did not move after resume");
            }
            assertTrue(worst < TimeUnit.MILLISECONDS.toNanos(20), "slowest pause took " + worst / 1e6 + " ms");
        }
    }

    @Test
    void pausesAnIdleGuestAndItCarriesOn() throws Exception {
        try (Vm vm = Guests.boot("heartbeat", 16 * Guests.MIB, "interval_ms=50")) {
            vm.start();
            Guests.awaitBeats(vm, 2, 10_000);
            long nanos = vm.pause();
            assertTrue(nanos < TimeUnit.MILLISECONDS.toNanos(20), "pause took " + nanos / 1e6 + " ms");
            int before = Guests.beats(vm.console().recentLines()).size();
            Thread.sleep(200);
            assertEquals(before, Guests.beats(vm.console().recentLines()).size(), "beats while paused");
            vm.resume();
            Guests.awaitBeats(vm, before + 2, 10_000);
        }
    }

    @Test
    void stopEndsARunningGuestAndReportsStopped() throws Exception {
        Vm vm = Guests.boot("spinner", 16 * Guests.MIB);
        vm.start();
        counterAddress(vm);
        assertEquals(new VmResult.Stopped(), vm.stop());
        vm.close();
        assertTrue(vm.vcpus().stream().allMatch(Vcpu::isPausedOrStopped));
    }

    @Test
    void closingAVmWaitsForAThreadHoldingItsRamAndDoesNotDeadlockWithIt() throws Exception {
        Vm vm = Guests.boot("heartbeat", 64 * Guests.MIB);
        vm.start();
        Guests.awaitBeats(vm, 1, 10_000);
        dev.ferry.vmm.memory.GuestMemory.Hold hold = vm.memory().hold();
        java.util.concurrent.CompletableFuture<Void> closing = java.util.concurrent.CompletableFuture.runAsync(vm::close);
        Thread.sleep(300);
        assertTrue(!closing.isDone(), "the VM's RAM was released under a thread that holds it");
        // what a checkpoint writer does meanwhile: the VM's control calls and its RAM still work
        vm.setVirtualization(Virtualization.ON);
        vm.memory().checksum();
        vm.setVirtualization(Virtualization.OFF);
        hold.close();
        closing.get(10, TimeUnit.SECONDS);
    }
}
