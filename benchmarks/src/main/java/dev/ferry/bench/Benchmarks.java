package dev.ferry.bench;

import java.util.Arrays;

/**
 * The benchmarks program: {@code java -jar ferry-benchmarks.jar [core|checkpoint|migrate] [options]}. With no
 * program name (or {@code core}) it runs {@link CoreBench}; {@code checkpoint} runs {@link CheckpointBench};
 * {@code migrate} runs {@link MigrateBench}; {@code deploy} runs {@link DeployBench}.
 */
public final class Benchmarks {
    private static final String USAGE = "usage: ferry-benchmarks [core|checkpoint|migrate|deploy] [options]\n"
            + "  core        the hypervisor core beside refvmm (the default)\n"
            + "  checkpoint  checkpoint writing, restore and incremental checkpoints beside the raw disk\n"
            + "  migrate     live migration between two host agents on 127.0.0.1, beside QEMU/KVM with --vs-qemu\n"
            + "  deploy      streaming deployment from an NBD image beside copy-then-boot";

    private Benchmarks() {}

    public static void main(String[] args) {
        // host-actor's logback.xml is on the class path beside this module's (which wins): without this, logback
        // prints its whole status on every start to say so.
        if (System.getProperty("logback.statusListenerClass") == null) {
            System.setProperty("logback.statusListenerClass", "ch.qos.logback.core.status.NopStatusListener");
        }
        String program = args.length > 0 ? args[0] : "";
        String[] rest = args.length > 0 ? Arrays.copyOfRange(args, 1, args.length) : args;
        switch (program) {
            case "core" -> CoreBench.main(rest);
            case "checkpoint" -> CheckpointBench.main(rest);
            case "migrate" -> MigrateBench.main(rest);
            case "deploy" -> DeployBench.main(rest);
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
