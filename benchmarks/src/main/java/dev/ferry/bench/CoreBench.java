package dev.ferry.bench;

import dev.ferry.vmm.Hypervisor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The core figures program: VM exit rate, guest write bandwidth with virtualization OFF and ON, dirty-bitmap fetch
 * cost, and virtualization switch pause, each measured in this run beside its reference.
 * {@code java -jar benchmarks/target/ferry-benchmarks-*.jar [--json] [--quick]}; see benchmarks/README.md.
 */
public final class CoreBench {
    static final int EXIT_NO_KVM = 3;
    static final int EXIT_USAGE = 2;
    static final int EXIT_FAILED = 1;
    private static final String TITLE = "Ferry core figures, measured side by side in one run";
    private static final String USAGE = "usage: CoreBench [--json] [--quick]\n"
            + "  --json   print the figures as one JSON line (progress still goes to stderr)\n"
            + "  --quick  fewer repetitions, for a smoke run\n"
            + "  -D" + RefVmm.PATH_PROPERTY + "=PATH  the C reference VMM (default: native/refvmm beside the jar)";

    /** Repetitions per figure. */
    record Plan(int exitRateRuns, int bandwidthRuns, int fetches, int switches) {
        static final Plan FULL = new Plan(3, 3, 9, 5);
        static final Plan QUICK = new Plan(1, 1, 3, 2);
    }

    private CoreBench() {}

    public static void main(String[] args) {
        boolean json = false;
        boolean quick = false;
        for (String a : args) {
            switch (a) {
                case "--json" -> json = true;
                case "--quick" -> quick = true;
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    System.err.println("CoreBench: unknown argument '" + a + "'\n" + USAGE);
                    System.exit(EXIT_USAGE);
                }
            }
        }
        if (!Hypervisor.isAvailable()) {
            System.err.println("CoreBench: KVM is unusable here: " + Hypervisor.unavailabilityCause());
            System.exit(EXIT_NO_KVM);
        }
        try {
            List<Section> sections = measure(quick ? Plan.QUICK : Plan.FULL, line -> System.err.println("... " + line));
            Map<String, String> host = HostInfo.describe();
            System.out.println(json ? JsonReport.render(host, quick, sections)
                    : TextReport.render(TITLE, host, sections));
        } catch (RuntimeException e) {
            System.err.println("CoreBench: failed: " + e.getMessage());
            e.printStackTrace();
            System.exit(EXIT_FAILED);
        }
    }

    static List<Section> measure(Plan plan, Consumer<String> progress) {
        Hypervisor hypervisor = Hypervisor.get();
        List<Section> sections = new ArrayList<>();
        try (RefVmm ref = RefVmm.locate()) {
            progress.accept("reference VMM: " + ref.binary());
            sections.add(new ExitRate(hypervisor, ref, progress).run(plan.exitRateRuns()));
            sections.add(new WriteBandwidth(hypervisor, ref, progress).run(plan.bandwidthRuns()));
        }
        sections.add(new DirtyBitmapFetch(hypervisor, progress).run(plan.fetches()));
        sections.add(new SwitchPause(hypervisor, progress).run(plan.switches()));
        return sections;
    }
}
