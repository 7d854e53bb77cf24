package dev.ferry.bench;

import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Figure 1, VM exits per second: the {@code pinger} guest writes the PING port {@value #COUNT} times on refvmm (C)
 * and on the Java core, runs interleaved. The rate comes from the guest's own TSC timing of the ping loop
 * ({@code ns_per_exit}), so VM creation and boot are not in it.
 */
final class ExitRate {
    static final int COUNT = 200_000;
    private static final int WARMUP_COUNT = 20_000;
    private static final Duration LIMIT = Duration.ofSeconds(120);
    private static final double GOAL = 0.8;

    private final Hypervisor hypervisor;
    private final RefVmm ref;
    private final Consumer<String> progress;

    ExitRate(Hypervisor hypervisor, RefVmm ref, Consumer<String> progress) {
        this.hypervisor = hypervisor;
        this.ref = ref;
        this.progress = progress;
    }

    Section run(int repetitions) {
        GuestSpec warmup = pinger(WARMUP_COUNT);
        onC(warmup);
        onJava(warmup);
        GuestSpec spec = pinger(COUNT);
        List<Double> c = new ArrayList<>();
        List<Double> java = new ArrayList<>();
        for (int i = 1; i <= repetitions; i++) {
            c.add(onC(spec));
            progress.accept(String.format("exit rate %d/%d: C %.0f exits/s", i, repetitions, c.get(c.size() - 1)));
            java.add(onJava(spec));
            progress.accept(String.format("exit rate %d/%d: Java %.0f exits/s", i, repetitions,
                    java.get(java.size() - 1)));
        }
        Figure fc = Figure.median("c_exits_per_s", "refvmm (C)", "exits/s", c);
        Figure fj = Figure.median("java_exits_per_s", "Ferry core (Java)", "exits/s", java);
        return new Section("exit_rate", "1. VM exits per second (pinger count=" + COUNT + ", port write round trip)",
                List.of(fc, fj, Figure.ratio("ratio_java_c", "Java / C", fj.value(), fc.value(), GOAL)),
                List.of("median of " + repetitions + " runs each, interleaved C, Java, C, Java...; after one "
                                + "untimed warm-up run of each (count=" + WARMUP_COUNT + ")",
                        "exits/s = 1e9 / ns_per_exit, the guest's TSC timing of its ping loop (no VM creation)"));
    }

    private static GuestSpec pinger(int count) {
        return GuestSpec.of("pinger", 256, "count", Integer.toString(count));
    }

    private double onC(GuestSpec spec) {
        RefVmm.Outcome o = ref.run(spec, LIMIT, line -> { }).requireSuccess();
        return exitsPerSecond(o.lines(), spec);
    }

    private double onJava(GuestSpec spec) {
        Vm vm = FerryGuest.boot(hypervisor, spec, line -> { });
        try {
            vm.start();
            FerryGuest.awaitSuccess(vm, spec, LIMIT);
            return exitsPerSecond(vm.console().recentLines(), spec);
        } finally {
            vm.close();
        }
    }

    private static double exitsPerSecond(List<String> lines, GuestSpec spec) {
        for (String line : lines) {
            if (GuestLine.is(line, "pinger", "ns_per_exit")) {
                long ns = GuestLine.require(line, "ns_per_exit");
                if (ns <= 0) {
                    throw new IllegalStateException("pinger reported ns_per_exit=" + ns + ": " + line);
                }
                return 1e9 / ns;
            }
        }
        throw new IllegalStateException(spec + " printed no 'pinger ... ns_per_exit=' line; it printed " + lines);
    }
}
