package dev.ferry.bench;

import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.memory.PageBitmap;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Figure 3, the cost of one {@link Vm#fetchDirtyPages} (KVM_GET_DIRTY_LOG, then KVM_CLEAR_DIRTY_LOG for the pages
 * found, merged into a Java bitmap) with virtualization ON: on a 1 GiB and an 8 GiB {@code spinner} guest when
 * (almost) nothing is dirty, and on a 1 GiB {@code dirtier} guest after it re-dirtied its whole 512 MiB working set.
 */
final class DirtyBitmapFetch {
    static final int DIRTY_WORKSET_MIB = 512;
    private static final long DIRTY_WORKSET_PAGES = (long) DIRTY_WORKSET_MIB << 20 >> 12;
    private static final Duration LIMIT = Duration.ofSeconds(30);
    private static final long QUIET_GAP_MILLIS = 20;

    private final Hypervisor hypervisor;
    private final Consumer<String> progress;

    DirtyBitmapFetch(Hypervisor hypervisor, Consumer<String> progress) {
        this.hypervisor = hypervisor;
        this.progress = progress;
    }

    Section run(int repetitions) {
        List<Figure> figures = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (int gib : new int[] {1, 8}) {
            figures.add(quiet(gib, repetitions, notes));
        }
        figures.add(dirty(repetitions, notes));
        notes.add(0, "ms per fetch, median of " + repetitions + " fetches, each one following a previous fetch "
                + "(so it finds only what was dirtied since); the guest keeps running");
        return new Section("dirty_bitmap_fetch", "3. Dirty-bitmap fetch, virtualization ON (Vm.fetchDirtyPages)",
                figures, notes);
    }

    /** A spinner guest dirties one counter page (and its stack): (almost) nothing is dirty at each fetch. */
    private Figure quiet(int gib, int repetitions, List<String> notes) {
        GuestSpec spec = GuestSpec.of("spinner", (long) gib << 10);
        Vm vm = FerryGuest.boot(hypervisor, spec, line -> { });
        try {
            vm.start();
            FerryGuest.awaitLine(vm, spec, "spinner counter_at=", LIMIT);
            vm.setVirtualization(Virtualization.ON);
            PageBitmap bitmap = vm.newPageBitmap();
            vm.fetchDirtyPages(bitmap);
            List<Double> ms = new ArrayList<>();
            long maxPages = 0;
            for (int i = 0; i < repetitions; i++) {
                Threads.sleep(QUIET_GAP_MILLIS);
                bitmap.clear();
                long t0 = System.nanoTime();
                long pages = vm.fetchDirtyPages(bitmap);
                ms.add((System.nanoTime() - t0) / 1e6);
                maxPages = Math.max(maxPages, pages);
            }
            vm.setVirtualization(Virtualization.OFF);
            notes.add(String.format(Locale.ROOT, "%d GiB spinner: at most %d pages dirty per fetch, %d ms apart",
                    gib, maxPages, QUIET_GAP_MILLIS));
            progress.accept(String.format(Locale.ROOT, "dirty-bitmap fetch: %d GiB, nothing dirty: %.3f ms", gib,
                    Stats.median(ms)));
            return Figure.median("quiet_" + gib + "gib_ms", gib + " GiB guest, (almost) nothing dirty", "ms", ms);
        } finally {
            vm.close();
        }
    }

    /**
     * A dirtier (mode=word: one word per page, as fast as it can) walks 512 MiB of a 1 GiB guest; each timed fetch
     * waits until the guest has written a whole pass since the previous fetch, so every page is dirty.
     */
    private Figure dirty(int repetitions, List<String> notes) {
        GuestSpec spec = GuestSpec.of("dirtier", 1024, "workset", Integer.toString(DIRTY_WORKSET_MIB), "rate", "0",
                "mode", "word", "report_ms", "50");
        DirtierProgress reports = new DirtierProgress();
        Vm vm = FerryGuest.boot(hypervisor, spec, reports);
        try {
            vm.start();
            reports.awaitTotal(DIRTY_WORKSET_PAGES, LIMIT);
            vm.setVirtualization(Virtualization.ON);
            PageBitmap bitmap = vm.newPageBitmap();
            vm.fetchDirtyPages(bitmap);
            List<Double> ms = new ArrayList<>();
            long minPages = Long.MAX_VALUE;
            for (int i = 0; i < repetitions; i++) {
                // A report can be stale by millions of pages (writes to already-dirty pages do not fault), so
                // count from the first report printed after the previous fetch: one more pass then covers the set.
                long since = reports.awaitNextTotal(reports.reportCount(), LIMIT);
                reports.awaitTotal(since + DIRTY_WORKSET_PAGES, LIMIT);
                bitmap.clear();
                long t0 = System.nanoTime();
                long pages = vm.fetchDirtyPages(bitmap);
                ms.add((System.nanoTime() - t0) / 1e6);
                minPages = Math.min(minPages, pages);
            }
            vm.setVirtualization(Virtualization.OFF);
            notes.add(String.format(Locale.ROOT, "1 GiB dirtier: at least %d pages dirty per fetch (workset %d pages)",
                    minPages, DIRTY_WORKSET_PAGES));
            progress.accept(String.format(Locale.ROOT, "dirty-bitmap fetch: 1 GiB, %d MiB dirty: %.3f ms",
                    DIRTY_WORKSET_MIB, Stats.median(ms)));
            return Figure.median("dirty_1gib_ms", "1 GiB guest, " + DIRTY_WORKSET_MIB + " MiB dirty", "ms", ms);
        } finally {
            vm.close();
        }
    }
}
