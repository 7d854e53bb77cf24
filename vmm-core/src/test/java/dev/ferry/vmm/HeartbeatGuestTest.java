package dev.ferry.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.Guests.Beat;
import dev.ferry.vmm.testing.RequiresKvm;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

@RequiresKvm
class HeartbeatGuestTest {
    @Test
    void printsNumberedHeartbeatsAboutEveryQuarterSecond() throws Exception {
        try (Vm vm = Guests.boot("heartbeat", 64 * Guests.MIB)) {
            vm.start();
            List<Beat> beats = Guests.awaitBeats(vm, 5, 10_000);
            for (int i = 0; i < beats.size(); i++) {
                assertEquals(i, beats.get(i).seq(), "heartbeats count up from 0");
            }
            long tscKhz = vm.tscKhz();
            for (int i = 1; i < 5; i++) {
                double ms = (beats.get(i).tsc() - beats.get(i - 1).tsc()) / (double) tscKhz;
                assertTrue(ms > 200 && ms < 400, "beat " + i + " came " + ms + " ms after the previous one");
                assertNotEquals(beats.get(i).sum(), beats.get(i - 1).sum(), "the owned region changes each beat");
            }
        }
    }

    @Test
    void honoursIntervalAndCountArguments() throws Exception {
        try (Vm vm = Guests.boot("heartbeat", 64 * Guests.MIB, "interval_ms=20", "count=7")) {
            vm.start();
            VmResult r = vm.awaitResult(Duration.ofSeconds(10)).orElseThrow();
            assertEquals(new VmResult.Exited(0), r);
            assertEquals(7, Guests.beats(vm.console().recentLines()).size());
        }
    }

    @Test
    void guestExitCodeEndsTheVm() throws Exception {
        try (Vm vm = Guests.boot("exiter", 16 * Guests.MIB, "code=42")) {
            vm.start();
            VmResult r = vm.awaitResult(Duration.ofSeconds(10)).orElseThrow();
            assertInstanceOf(VmResult.Exited.class, r);
            assertEquals(42, ((VmResult.Exited) r).code());
            assertTrue(vm.console().recentLines().contains("exiter code=42"), vm.console().recentLines().toString());
        }
    }

    @Test
    void bootsWithEightGibOfRamWithoutTouchingIt() throws Exception {
        try (Vm vm = Guests.boot("heartbeat", 8L << 30, "interval_ms=10", "count=3")) {
            assertEquals(2, vm.memory().regions().size(), "RAM splits around the MMIO hole");
            vm.start();
            assertEquals(new VmResult.Exited(0), vm.awaitResult(Duration.ofSeconds(10)).orElseThrow());
            long[] populated = {0};
            vm.memory().forEachPopulatedPage(p -> populated[0]++);
            assertTrue(populated[0] < 1024, "an idle 8 GiB guest populated " + populated[0] + " pages");
        }
    }
}
