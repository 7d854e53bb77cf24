package dev.ferry.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import org.junit.jupiter.api.Test;

@RequiresKvm
class DirtyLogTest {
    private static final long WORKSET_MIB = 8;

    private static long worksetBase(Vm vm) throws InterruptedException {
        String line = vm.console().awaitLine("dirtier workset_mib=", 10_000);
        assertTrue(line != null, "dirtier did not announce its working set: " + vm.console().recentLines());
        for (String part : line.split(" ")) {
            if (part.startsWith("base=")) {
                return Long.decode(part.substring(5));
            }
        }
        throw new AssertionError("no base= in " + line);
    }

    @Test
    void fetchFindsEveryPageTheGuestDirtiesAndThenStartsAfresh() throws Exception {
        try (Vm vm = Guests.boot("dirtier", 64 * Guests.MIB, "workset=" + WORKSET_MIB, "mode=word")) {
            vm.start();
            long base = worksetBase(vm);
            vm.setVirtualization(Virtualization.ON);
            Thread.sleep(200);
            vm.pause();
            PageBitmap dirty = vm.newPageBitmap();
            vm.fetchDirtyPages(dirty);
            long firstPage = base / GuestMemory.PAGE_SIZE;
            long pages = WORKSET_MIB << 8;
            for (long p = firstPage; p < firstPage + pages; p++) {
                assertTrue(dirty.get(p), "working-set page " + p + " not reported dirty");
            }
            assertTrue(dirty.count() < pages + 64, "too many dirty pages outside the working set: " + dirty.count());

            PageBitmap again = vm.newPageBitmap();
            vm.fetchDirtyPages(again);
            assertEquals(0, again.count(), "a paused guest dirtied pages");

            // the dirtier sweeps its working set over and over; on a busy host a sweep may take a while
            again.clear();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (again.count() < pages && System.nanoTime() < deadline) {
                vm.resume();
                Thread.sleep(100);
                vm.pause();
                vm.fetchDirtyPages(again);
            }
            assertTrue(again.count() >= pages, "after resume the working set is dirty again: " + again.count());
        }
    }

    @Test
    void peekShowsTheGuestsWritesWithoutTakingThemFromTheNextFetch() throws Exception {
        try (Vm vm = Guests.boot("dirtier", 64 * Guests.MIB, "workset=" + WORKSET_MIB, "mode=word")) {
            vm.start();
            long firstPage = worksetBase(vm) / GuestMemory.PAGE_SIZE;
            long pages = WORKSET_MIB << 8;
            vm.setVirtualization(Virtualization.ON);
            vm.fetchDirtyPages(vm.newPageBitmap());
            Thread.sleep(200);
            vm.pause();
            PageBitmap peeked = vm.newPageBitmap();
            vm.peekDirtyPages(peeked);
            assertTrue(peeked.count() >= pages, "peek saw " + peeked.count() + " of the working set's " + pages);
            PageBitmap fetched = vm.newPageBitmap();
            vm.fetchDirtyPages(fetched);
            for (long p = firstPage; p < firstPage + pages; p++) {
                assertTrue(peeked.get(p), "working-set page " + p + " not seen by peek");
                assertTrue(fetched.get(p), "working-set page " + p + " taken by peek from the fetch");
            }
            PageBitmap after = vm.newPageBitmap();
            vm.peekDirtyPages(after);
            assertEquals(0, after.count(), "the fetch started a new interval, the paused guest wrote nothing");
        }
    }

    @Test
    void pagesTheVmmWritesAreReportedDirtyToo() throws Exception {
        try (Vm vm = Guests.boot("heartbeat", 64 * Guests.MIB)) {
            vm.start();
            Guests.awaitBeats(vm, 1, 10_000);
            vm.setVirtualization(Virtualization.ON);
            vm.pause();
            vm.fetchDirtyPages(vm.newPageBitmap());
            long gpa = 40 * Guests.MIB + 123;
            vm.memory().writeLong(gpa, 0xFEEDL);
            PageBitmap dirty = vm.newPageBitmap();
            vm.fetchDirtyPages(dirty);
            assertEquals(1, dirty.count());
            assertTrue(dirty.get(gpa / GuestMemory.PAGE_SIZE));
        }
    }

    @Test
    void fetchingWhileOffIsRefused() throws Exception {
        try (Vm vm = Guests.boot("exiter", 16 * Guests.MIB)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> vm.fetchDirtyPages(vm.newPageBitmap()));
            assertTrue(e.getMessage().contains("virtualization ON"), e.getMessage());
        }
    }

    @Test
    void tracksDirtyPagesAboveTheMmioHole() throws Exception {
        long memory = 4L << 30;
        try (Vm vm = Guests.boot("heartbeat", memory)) {
            assertEquals(2, vm.memory().regions().size());
            vm.setVirtualization(Virtualization.ON);
            long high = (4L << 30) + (512L << 20);
            vm.memory().writeLong(high, 7);
            PageBitmap dirty = vm.newPageBitmap();
            vm.fetchDirtyPages(dirty);
            long page = vm.memory().offsetOf(high) / GuestMemory.PAGE_SIZE;
            assertTrue(dirty.get(page));
            assertEquals(high, vm.memory().gpaOfPage(page));
        }
    }
}
