package dev.ferry.bench;

import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.SwitchReport;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Figure 4, how long {@link Vm#setVirtualization} pauses a running guest ({@link SwitchReport#pausedMillis()}),
 * for ON and for OFF: on a 1 GiB and an 8 GiB {@code spinner} guest (RAM untouched), and on a 1 GiB
 * {@code dirtier} guest whose 512 MiB working set is populated and being written.
 */
final class SwitchPause {
    private static final Duration LIMIT = Duration.ofSeconds(30);
    private static final long SETTLE_MILLIS = 100;

    private final Hypervisor hypervisor;
    private final Consumer<String> progress;

    SwitchPause(Hypervisor hypervisor, Consumer<String> progress) {
        this.hypervisor = hypervisor;
        this.progress = progress;
    }

    Section run(int repetitions) {
        List<Figure> figures = new ArrayList<>();
        figures.addAll(measure("1gib", "1 GiB spinner", GuestSpec.of("spinner", 1024), repetitions));
        figures.addAll(measure("8gib", "8 GiB spinner", GuestSpec.of("spinner", 8192), repetitions));
        figures.addAll(measure("1gib_populated", "1 GiB dirtier, 512 MiB written", GuestSpec.of("dirtier", 1024,
                "workset", Integer.toString(DirtyBitmapFetch.DIRTY_WORKSET_MIB), "rate", "0", "mode", "word",
                "report_ms", "50"), repetitions));
        return new Section("switch_pause", "4. Virtualization switch pause (SwitchReport.pausedMillis)", figures,
                List.of("median of " + repetitions + " switches ON then OFF, " + SETTLE_MILLIS
                        + " ms apart, the guest running"));
    }

    private List<Figure> measure(String key, String label, GuestSpec spec, int repetitions) {
        DirtierProgress reports = new DirtierProgress();
        Vm vm = FerryGuest.boot(hypervisor, spec, reports);
        try {
            vm.start();
            if (spec.name().equals("dirtier")) {
                reports.awaitTotal(Long.parseLong(spec.args().get("workset")) << 20 >> 12, LIMIT);
            } else {
                FerryGuest.awaitLine(vm, spec, "spinner counter_at=", LIMIT);
            }
            List<Double> on = new ArrayList<>();
            List<Double> off = new ArrayList<>();
            for (int i = 0; i < repetitions; i++) {
                on.add(vm.setVirtualization(Virtualization.ON).pausedMillis());
                Threads.sleep(SETTLE_MILLIS);
                off.add(vm.setVirtualization(Virtualization.OFF).pausedMillis());
                Threads.sleep(SETTLE_MILLIS);
            }
            if (vm.result().isDone()) {
                throw new IllegalStateException(spec + " ended during the switches: "
                        + vm.result().join().describe());
            }
            progress.accept(String.format(Locale.ROOT, "switch pause: %s: ON %.3f ms, OFF %.3f ms", label,
                    Stats.median(on), Stats.median(off)));
            return List.of(Figure.median("on_" + key + "_ms", label + ", switch ON", "ms", on),
                    Figure.median("off_" + key + "_ms", label + ", switch OFF", "ms", off));
        } finally {
            vm.close();
        }
    }
}
