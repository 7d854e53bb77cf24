package dev.ferry.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ferry} command: one subcommand per operator task. */
@Command(name = "ferry", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, version = "ferry 0.1.0",
        description = "A temporarily virtualizable hypervisor: run guests on KVM, switch virtualization on only when needed.",
        subcommands = {DemoCommand.class, TourCommand.class, RunCommand.class, RestoreCommand.class, CheckpointInfoCommand.class, HostCommand.class, OrchestratorCommand.class,
            ClusterCommand.class, InstanceCommand.class, DeployCommand.class, MigrateCommand.class, EvacuateCommand.class, StatusCommand.class,
            LogsCommand.class, CheckpointCommand.class, ChaosCommand.class,
            KvmInfoCommand.class})
public final class FerryCli implements Runnable {
    /** Exit codes shared by every subcommand. */
    public static final int OK = 0;
    public static final int GUEST_FAILED = 1;
    public static final int USAGE = 2;
    public static final int KVM_UNAVAILABLE = 3;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new FerryCli());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof IllegalArgumentException) {
                cmd.getErr().println("ferry: " + ex.getMessage());
                return USAGE;
            }
            if (ex instanceof java.io.UncheckedIOException io) {
                cmd.getErr().println("ferry: " + io.getMessage() + ": " + io.getCause().getMessage());
                return USAGE;
            }
            throw ex;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("ferry: " + ex.getMessage());
            ex.getCommandLine().getErr().println("(see 'ferry " + ex.getCommandLine().getCommandName() + " --help')");
            return USAGE;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
