package dev.ferry.bench;

import dev.ferry.vmm.Hypervisor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The checkpoint figures program: a full checkpoint beside the disk's raw sequential write, the restore of it, and
 * incremental checkpoints per dirty page, measured in one run. Files go to a temporary directory beside the jar
 * ({@code benchmarks/target}), deleted at the end.
 * {@code java -jar benchmarks/target/ferry-benchmarks.jar checkpoint [--json] [--quick]}; see benchmarks/README.md.
 */
public final class CheckpointBench {
    private static final String TITLE = "Ferry checkpoint figures, measured side by side in one run";
    private static final String USAGE = "usage: ferry-benchmarks checkpoint [--json] [--quick]\n"
            + "  --json   print the figures as one JSON line (progress still goes to stderr)\n"
            + "  --quick  one round of each figure, for a smoke run";

    /** Rounds of figures 1 and 2, and incremental checkpoints per case of figure 3. */
    record Plan(int rounds, int incrementals) {
        static final Plan FULL = new Plan(3, 3);
        static final Plan QUICK = new Plan(1, 1);
    }

    private CheckpointBench() {}

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
                    System.err.println("CheckpointBench: unknown argument '" + a + "'\n" + USAGE);
                    System.exit(CoreBench.EXIT_USAGE);
                }
            }
        }
        if (!Hypervisor.isAvailable()) {
            System.err.println("CheckpointBench: KVM is unusable here: " + Hypervisor.unavailabilityCause());
            System.exit(CoreBench.EXIT_NO_KVM);
        }
        try {
            Path dir = Files.createTempDirectory(RefVmm.besideJar(), "checkpoint-bench-");
            Map<String, String> host = new LinkedHashMap<>(HostInfo.describe());
            host.put("disk", describe(dir));
            List<Section> sections;
            try {
                sections = measure(quick ? Plan.QUICK : Plan.FULL, dir, line -> System.err.println("... " + line));
            } finally {
                deleteTree(dir);
            }
            System.out.println(json ? JsonReport.render(host, quick, sections)
                    : TextReport.render(TITLE, host, sections));
        } catch (IOException | RuntimeException e) {
            System.err.println("CheckpointBench: failed: " + e.getMessage());
            e.printStackTrace();
            System.exit(CoreBench.EXIT_FAILED);
        }
    }

    static List<Section> measure(Plan plan, Path dir, Consumer<String> progress) {
        Hypervisor hypervisor = Hypervisor.get();
        progress.accept("files in " + dir);
        List<Section> sections = new ArrayList<>();
        FullCheckpointAndRestore full = new FullCheckpointAndRestore(hypervisor, dir, progress);
        sections.addAll(full.run(plan.rounds()));
        sections.add(new IncrementalCheckpoints(hypervisor, dir, progress).run(plan.incrementals(), full.full()));
        return sections;
    }

    /** The file system the files go to: its type and device, and the directory. */
    private static String describe(Path dir) throws IOException {
        FileStore store = Files.getFileStore(dir);
        return store.type() + " on " + store.name() + ", files in " + dir.getParent();
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(FullCheckpointAndRestore::delete);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
