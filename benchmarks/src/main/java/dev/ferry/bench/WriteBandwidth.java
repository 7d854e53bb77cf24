package dev.ferry.bench;

import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Figure 2, guest memory-write bandwidth: {@code dirtier mode=page} (every byte of each page written with 8-byte
 * stores) on (a) refvmm, a plain KVM guest; (b) Ferry with virtualization OFF; (c) Ferry with virtualization ON
 * while a host thread fetches-and-clears the dirty bitmap every {@value #FETCH_PERIOD_MS} ms, as pre-copy does.
 */
final class WriteBandwidth {
    static final int WORKSET_MIB = 64;
    static final int SECONDS = 3;
    static final int REPORT_MS = 250;
    static final int FETCH_PERIOD_MS = 50;
    private static final Duration LIMIT = Duration.ofSeconds(SECONDS + 30);
    private static final double GOAL_OFF_PLAIN = 0.97;

    private final Hypervisor hypervisor;
    private final RefVmm ref;
    private final Consumer<String> progress;

    WriteBandwidth(Hypervisor hypervisor, RefVmm ref, Consumer<String> progress) {
        this.hypervisor = hypervisor;
        this.ref = ref;
        this.progress = progress;
    }

    private static GuestSpec dirtier() {
        return GuestSpec.of("dirtier", 256, "workset", Integer.toString(WORKSET_MIB), "rate", "0", "mode", "page",
                "report_ms", Integer.toString(REPORT_MS), "seconds", Integer.toString(SECONDS));
    }

    Section run(int repetitions) {
        GuestSpec spec = dirtier();
        List<Double> plain = new ArrayList<>();
        List<Double> off = new ArrayList<>();
        List<Double> on = new ArrayList<>();
        List<Double> plainRuns = new ArrayList<>();
        List<Double> offRuns = new ArrayList<>();
        List<Double> onRuns = new ArrayList<>();
        List<String> fetcherNotes = new ArrayList<>();
        for (int i = 1; i <= repetitions; i++) {
            record(plain, plainRuns, onRefVmm(spec), "plain", i, repetitions);
            record(off, offRuns, onFerry(spec, false, fetcherNotes), "Ferry OFF", i, repetitions);
            record(on, onRuns, onFerry(spec, true, fetcherNotes), "Ferry ON", i, repetitions);
        }
        double p = Stats.median(plain);
        double f = Stats.median(off);
        double n = Stats.median(on);
        List<Figure> figures = List.of(
                new Figure("plain_mb_per_s", "plain KVM guest (refvmm)", p, "MB/s", plainRuns, null),
                new Figure("off_mb_per_s", "Ferry, virtualization OFF", f, "MB/s", offRuns, null),
                new Figure("on_mb_per_s", "Ferry, ON + fetch every " + FETCH_PERIOD_MS + " ms", n, "MB/s", onRuns,
                        null),
                Figure.ratio("ratio_off_plain", "OFF / plain", f, p, GOAL_OFF_PLAIN),
                Figure.ratio("ratio_on_off", "ON / OFF", n, f, null));
        List<String> notes = new ArrayList<>(List.of(
                "dirtier mode=page workset=" + WORKSET_MIB + " MiB rate=0, " + SECONDS + " s per run, a report every "
                        + REPORT_MS + " ms; the first report (first touch) is dropped",
                "value = median of all kept reports of that variant over " + repetitions + " interleaved runs "
                        + "(plain, OFF, ON, ...); samples = each run's median",
                "MB/s = 10^6 bytes/s, from the guest's pages_per_s x 4096"));
        notes.addAll(fetcherNotes);
        return new Section("write_bandwidth", "2. Guest memory-write bandwidth (dirtier mode=page)", figures, notes);
    }

    private void record(List<Double> all, List<Double> runs, List<Double> samples, String what, int i, int n) {
        if (samples.isEmpty()) {
            throw new IllegalStateException(what + ": the dirtier printed fewer than two reports in " + SECONDS
                    + " s");
        }
        all.addAll(samples);
        runs.add(Stats.median(samples));
        progress.accept(String.format(Locale.ROOT, "write bandwidth %d/%d: %s %.0f MB/s", i, n, what,
                runs.get(runs.size() - 1)));
    }

    private List<Double> onRefVmm(GuestSpec spec) {
        DirtierProgress reports = new DirtierProgress();
        ref.run(spec, LIMIT, reports).requireSuccess();
        return reports.steadyMegabytesPerSecond();
    }

    private List<Double> onFerry(GuestSpec spec, boolean virtualized, List<String> fetcherNotes) {
        DirtierProgress reports = new DirtierProgress();
        Vm vm = FerryGuest.boot(hypervisor, spec, reports);
        try {
            if (!virtualized) {
                vm.start();
                FerryGuest.awaitSuccess(vm, spec, LIMIT);
                return reports.steadyMegabytesPerSecond();
            }
            vm.setVirtualization(Virtualization.ON);
            vm.start();
            PeriodicFetcher fetcher = new PeriodicFetcher(vm, FETCH_PERIOD_MS);
            try {
                FerryGuest.awaitSuccess(vm, spec, LIMIT);
            } finally {
                fetcher.close();
            }
            fetcherNotes.add(String.format(Locale.ROOT, "ON run %d: %d fetches, %.0f pages and %.3f ms per fetch",
                    fetcherNotes.size() + 1, fetcher.fetches(), fetcher.pagesPerFetch(), fetcher.millisPerFetch()));
            return reports.steadyMegabytesPerSecond();
        } finally {
            vm.close();
        }
    }
}
