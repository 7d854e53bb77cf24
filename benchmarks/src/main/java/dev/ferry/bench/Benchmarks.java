package dev.ferry.bench;

import java.util.Arrays;

/**
 * The benchmarks program: {@code java -jar ferry-benchmarks.jar [core|checkpoint] [options]}. With no program name
 * (or {@code core}) it runs {@link CoreBench}; {@code checkpoint} runs {@link CheckpointBench}.
 */
public final class Benchmarks {
    private static final String USAGE = "usage: ferry-benchmarks [core|checkpoint] [--json] [--quick]\n"
            + "  core        the hypervisor core beside refvmm (the default)\n"
            + "  checkpoint  checkpoint writing, restore and incremental checkpoints beside the raw disk";

    private Benchmarks() {}

    public static void main(String[] args) {
        String program = args.length > 0 ? args[0] : "";
        String[] rest = args.length > 0 ? Arrays.copyOfRange(args, 1, args.length) : args;
        switch (program) {
            case "core" -> CoreBench.main(rest);
            case "checkpoint" -> CheckpointBench.main(rest);
            case "-h", "--help" -> System.out.println(USAGE);
            default -> {
                if (!program.isEmpty() && !program.startsWith("-")) {
                    System.err.println("ferry-benchmarks: unknown program '" + program + "'\n" + USAGE);
                    System.exit(CoreBench.EXIT_USAGE);
                }
                CoreBench.main(args);
            }
        }
    }
}
