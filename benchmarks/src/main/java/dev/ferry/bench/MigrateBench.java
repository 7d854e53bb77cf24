package dev.ferry.bench;

import dev.ferry.vmm.Hypervisor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The live-migration figures program: a guest migrated between two Ferry host JVMs on 127.0.0.1 and, with
 * {@code --vs-qemu} (or {@code --suite}), the same guest binary migrated between two QEMU/KVM processes in the same
 * run. {@code java -jar ferry-benchmarks.jar migrate [options]}; see benchmarks/README.md.
 */
public final class MigrateBench {
    private static final String USAGE = "usage: ferry-benchmarks migrate [--memory 1G] [--workset 64M] "
            + "[--dirty-rate 5000] [--streams 2] [--downtime 50ms] [--runs 1] [--vs-qemu] [--json]\n"
            + "       ferry-benchmarks migrate --suite [--runs 3] [--streams 2] [--downtime 50ms] [--json]\n"
            + "  --memory SIZE     guest RAM (M or G; default 1G)\n"
            + "  --workset SIZE    the dirtier's working set, mode=word (M or G; default 64M); 0 migrates an idle "
            + "heartbeat\n"
            + "  --dirty-rate N    pages per second the dirtier writes (default 5000)\n"
            + "  --streams N       Ferry's TCP streams for pages (default 2)\n"
            + "  --downtime TIME   Ferry's downtime limit (ms or s; default 50ms); QEMU keeps its default\n"
            + "  --runs N          migrations per side, alternating Ferry and QEMU (default 1, 3 with --suite)\n"
            + "  --vs-qemu         also migrate the same guest between two QEMU processes\n"
            + "  --suite           the four goal scenarios, QEMU beside Ferry: a table, then one JSON line each\n"
            + "  --json            only the JSON line(s) on stdout (progress goes to stderr)";

    /** The command line. */
    record Options(long memoryMib, long worksetMib, long dirtyRate, int streams, long downtimeMs, int runs,
                   boolean vsQemu, boolean suite, boolean json) {}

    private MigrateBench() {}

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("migrate: " + e.getMessage() + "\n" + USAGE);
            System.exit(CoreBench.EXIT_USAGE);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        if (!Hypervisor.isAvailable()) {
            System.err.println("migrate: KVM is unusable here: " + Hypervisor.unavailabilityCause());
            System.exit(CoreBench.EXIT_NO_KVM);
        }
        Consumer<String> progress = line -> System.err.println("... " + line);
        List<MigrationScenario> scenarios = o.suite() ? suite(o) : List.of(new MigrationScenario("custom",
                o.memoryMib(), o.worksetMib(), o.worksetMib() == 0 ? 0 : o.dirtyRate(), o.streams(), o.downtimeMs(),
                new MigrationGoal.Downtime(o.downtimeMs(), false)));
        List<MigrateReport.Result> results;
        String loadBefore = loadAverage();
        try {
            results = measure(scenarios, o.runs(), o.vsQemu() || o.suite(), progress);
        } catch (Exception e) {
            System.err.println("migrate: failed: " + e.getMessage());
            e.printStackTrace();
            System.exit(CoreBench.EXIT_FAILED);
            return;
        }
        Map<String, String> host = new LinkedHashMap<>(HostInfo.describe());
        // the machine is shared: how busy it was says how much noise to expect
        host.put("load", "1/5/15-min load average " + loadBefore + " before, " + loadAverage() + " after");
        if (!o.json()) {
            System.out.println(MigrateReport.table(host, results));
        }
        for (MigrateReport.Result r : results) {
            System.out.println(MigrateReport.json(host, r));
        }
        boolean failed = results.stream().anyMatch(r -> !r.ferry().allOk() || (r.qemu() != null && !r.qemu().allOk()));
        if (failed) {
            System.exit(CoreBench.EXIT_FAILED);
        }
    }

    /**
     * The goals: an idle 1 GiB guest moves at least as fast as under QEMU; 4 GiB with 3 GiB touched in at most 0.8 of
     * QEMU's time; 64 MiB at 5,000 pages/s within 50 ms of downtime; 256 MiB at 50,000 pages/s converges within 50 ms.
     * The dirtier places its working set in RAM region 0, which ends at 3 GiB, after 2 MiB for the image: 3070 MiB is
     * the most it can touch. It writes at one rate throughout, so touching 3 GiB at 5,000 pages/s would take 160 s;
     * that scenario runs at 50,000 pages/s (16 s to touch it, 200 MB/s dirtied during the migration).
     */
    static List<MigrationScenario> suite(Options o) {
        return List.of(
                new MigrationScenario("idle-1g", 1024, 0, 0, o.streams(), o.downtimeMs(),
                        new MigrationGoal.TotalVsQemu(1.0)),
                new MigrationScenario("touched-4g", 4096, 3070, 50_000, o.streams(), o.downtimeMs(),
                        new MigrationGoal.TotalVsQemu(0.8)),
                new MigrationScenario("dirty-64m", 1024, 64, 5_000, o.streams(), o.downtimeMs(),
                        new MigrationGoal.Downtime(50, false)),
                new MigrationScenario("dirty-256m-50k", 1024, 256, 50_000, o.streams(), o.downtimeMs(),
                        new MigrationGoal.Downtime(50, true)));
    }

    static List<MigrateReport.Result> measure(List<MigrationScenario> scenarios, int runs, boolean vsQemu,
                                              Consumer<String> progress) throws Exception {
        List<MigrateReport.Result> results = new ArrayList<>();
        try (GuestImages images = new GuestImages(); FerryMigration ferry = FerryMigration.start(progress)) {
            QemuMigration qemu = vsQemu ? QemuMigration.locate(images, progress) : null;
            MigrationScenario largest = warmUpScenario(scenarios);
            progress.accept("warm-up migrations (not counted): " + largest.describe());
            ferry.warmUp(largest);
            if (qemu != null) {
                qemu.warmUp(largest);
            }
            for (MigrationScenario s : scenarios) {
                List<MigrationRun> f = new ArrayList<>();
                List<MigrationRun> q = new ArrayList<>();
                for (int i = 1; i <= runs; i++) {
                    progress.accept(String.format(Locale.ROOT, "%s, run %d of %d", s.describe(), i, runs));
                    f.add(ferry.run(s));
                    if (qemu != null) {
                        q.add(qemu.run(s));
                    }
                }
                results.add(new MigrateReport.Result(s, new MigrationFigures("ferry", f),
                        qemu == null ? null : new MigrationFigures("qemu", q)));
            }
        }
        return results;
    }

    /**
     * The untimed migration each side makes first: the largest guest of the run (most memory touched, then most
     * RAM). Host agents are long-running processes whose migration path is compiled: in fresh host JVMs, a 3 GiB
     * migration after a 1.5 GiB warm-up still took twice the CPU of the next one, with the compiler threads busy. QEMU
     * makes the same migration, so that neither side's first large migration on this machine is timed.
     */
    static MigrationScenario warmUpScenario(List<MigrationScenario> scenarios) {
        MigrationScenario largest = scenarios.stream()
                .max(java.util.Comparator.comparingLong(MigrationScenario::worksetMib)
                        .thenComparingLong(MigrationScenario::memoryMib)).orElseThrow();
        return new MigrationScenario("warm-up", largest.memoryMib(), largest.worksetMib(), largest.dirtyRate(),
                largest.streams(), largest.downtimeLimitMs(), null);
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    /** Parses the command line; null for --help. */
    static Options parse(String[] args) {
        long memory = 1024;
        long workset = 64;
        long rate = 5000;
        int streams = 2;
        long downtime = 50;
        Integer runs = null;
        boolean vsQemu = false;
        boolean suite = false;
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--memory" -> memory = mebibytes(a, value(args, ++i, a));
                case "--workset" -> workset = mebibytes(a, value(args, ++i, a));
                case "--dirty-rate" -> rate = count(a, value(args, ++i, a));
                case "--streams" -> streams = (int) count(a, value(args, ++i, a));
                case "--downtime" -> downtime = millis(a, value(args, ++i, a));
                case "--runs" -> runs = (int) count(a, value(args, ++i, a));
                case "--vs-qemu" -> vsQemu = true;
                case "--suite" -> suite = true;
                case "--json" -> json = true;
                case "-h", "--help" -> {
                    return null;
                }
                default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
            }
        }
        if (streams < 1 || streams > 8) {
            throw new IllegalArgumentException("--streams " + streams + ": Ferry uses 1 to 8");
        }
        if (workset >= memory) {
            throw new IllegalArgumentException("--workset " + workset + "M does not fit in --memory " + memory + "M");
        }
        int n = runs != null ? runs : suite ? 3 : 1;
        if (n < 1) {
            throw new IllegalArgumentException("--runs " + n + ": at least 1");
        }
        return new Options(memory, workset, rate, streams, downtime, n, vsQemu, suite, json);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    /** {@code 64M}, {@code 1G}, or a bare number of MiB. */
    static long mebibytes(String option, String v) {
        String s = v.trim().toUpperCase(Locale.ROOT).replaceFirst("I?B$", "");
        long factor = 1;
        if (s.endsWith("G")) {
            factor = 1024;
            s = s.substring(0, s.length() - 1);
        } else if (s.endsWith("M")) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            long n = Long.parseLong(s);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n * factor;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " " + v + ": give a whole number of MiB or GiB, e.g. 64M, 1G");
        }
    }

    /** {@code 50ms}, {@code 0.05s}, or a bare number of ms. */
    static long millis(String option, String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        try {
            if (s.endsWith("ms")) {
                return Math.round(Double.parseDouble(s.substring(0, s.length() - 2)));
            }
            if (s.endsWith("s")) {
                return Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000);
            }
            return Math.round(Double.parseDouble(s));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " " + v + ": give a time such as 50ms or 0.05s");
        }
    }

    private static long count(String option, String v) {
        try {
            long n = Long.parseLong(v.trim().replace("_", "").replace(",", ""));
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " " + v + ": give a whole number");
        }
    }
}
