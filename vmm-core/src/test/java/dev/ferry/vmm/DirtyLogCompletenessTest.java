package dev.ferry.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** The property pre-copy rests on: a page whose contents changed between two fetches is reported by the second. */
@RequiresKvm
class DirtyLogCompletenessTest {
    private static long[] crcs(GuestMemory m) {
        long[] out = new long[(int) m.pageCount()];
        byte[] page = new byte[GuestMemory.PAGE_SIZE];
        for (int p = 0; p < out.length; p++) {
            m.read(m.gpaOfPage(p), page, 0, page.length);
            CRC32C c = new CRC32C();
            c.update(page);
            out[p] = c.getValue();
        }
        return out;
    }

    /** Fetches while the guest runs, with the host reading guest RAM meanwhile, as a pre-copy round does. */
    @Test
    void everyPageChangedWhileRunningIsReportedByTheNextFetch() throws Exception {
        try (Vm vm = Guests.boot("dirtier", 32L << 20, "workset=8", "rate=20000", "mode=word")) {
            vm.start();
            vm.console().awaitLine("dirtier workset_mib", 10_000);
            vm.setVirtualization(Virtualization.ON);
            PageBitmap dirty = vm.newPageBitmap();
            vm.fetchDirtyPages(dirty);
            for (int i = 0; i < 5; i++) {
                Thread.sleep(20);
                dirty.clear();
                vm.fetchDirtyPages(dirty);
                vm.pause();
                long[] before = crcs(vm.memory());
                dirty.clear();
                vm.fetchDirtyPages(dirty);
                vm.resume();
                crcs(vm.memory());
                Thread.sleep(30);
                dirty.clear();
                vm.fetchDirtyPages(dirty);
                crcs(vm.memory());
                vm.pause();
                PageBitmap rest = vm.newPageBitmap();
                vm.fetchDirtyPages(rest);
                dirty.or(rest);
                long[] after = crcs(vm.memory());
                vm.resume();
                List<Integer> missed = new ArrayList<>();
                for (int p = 0; p < before.length; p++) {
                    if (before[p] != after[p] && !dirty.get(p)) {
                        missed.add(p);
                    }
                }
                assertEquals(0, missed.size(), "round " + i + ": changed pages not reported: " + missed.size());
            }
        }
    }

    @Test
    void everyChangedPageIsReportedDirty() throws Exception {
        try (Vm vm = Guests.boot("dirtier", 32L << 20, "workset=8", "rate=20000", "mode=word")) {
            vm.start();
            vm.console().awaitLine("dirtier workset_mib", 10_000);
            vm.setVirtualization(Virtualization.ON);
            PageBitmap dirty = vm.newPageBitmap();
            for (int i = 0; i < 5; i++) {
                vm.pause();
                dirty.clear();
                vm.fetchDirtyPages(dirty);
                long[] before = crcs(vm.memory());
                vm.resume();
                Thread.sleep(30);
                vm.pause();
                dirty.clear();
                vm.fetchDirtyPages(dirty);
                long[] after = crcs(vm.memory());
                List<Integer> missed = new ArrayList<>();
                int changed = 0;
                for (int p = 0; p < before.length; p++) {
                    if (before[p] != after[p]) {
                        changed++;
                        if (!dirty.get(p)) {
                            missed.add(p);
                        }
                    }
                }
                vm.resume();
                assertEquals(0, missed.size(), "round " + i + ": " + missed.size() + " of " + changed
                        + " changed pages not reported dirty (" + dirty.count() + " reported), e.g. "
                        + missed.subList(0, Math.min(10, missed.size())));
            }
        }
    }
}
