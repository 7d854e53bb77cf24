package dev.ferry.cli;

import dev.ferry.orchestrator.chaos.ChaosOptions;
import dev.ferry.orchestrator.chaos.ChaosRun;
import dev.ferry.orchestrator.chaos.FaultKind;
import dev.ferry.orchestrator.chaos.Schedule;
import dev.ferry.vmm.Hypervisor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "chaos", description = "Fault injection: run a local cluster under a seeded schedule of operations and "
        + "faults, checking invariants all along.", subcommands = {ChaosCommand.Run.class})
final class ChaosCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "run", description = {
        "Start a local cluster (hosts, an orchestrator, a storage node), keep launches, migrations, checkpoints,",
        "restores and deployments going, inject faults, all from a schedule drawn from --seed; check invariants",
        "while it runs and at the end; stop everything (also on Ctrl-C). Exit code 1 if any invariant failed."})
    static final class Run implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--hosts", defaultValue = "3", description = "Host JVMs (default: ${DEFAULT-VALUE}).")
        int hosts;

        @Option(names = "--instances", defaultValue = "4", description = "Instances launched at the start "
                + "(default: ${DEFAULT-VALUE}).")
        int instances;

        @Option(names = "--duration", defaultValue = "120s", description = "How long the schedule runs: 90s, 10m "
                + "(default: ${DEFAULT-VALUE}).")
        String duration;

        @Option(names = "--seed", defaultValue = "1", description = "Draws the schedule: the same seed replays it "
                + "(default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--faults", defaultValue = "kill,partition,delay,disk-full", description = "Which faults: any of "
                + "kill, partition, delay, disk-full, comma-separated; all; none (default: ${DEFAULT-VALUE}).")
        String faults;

        @Option(names = "--dir", description = "Where the cluster's data, logs and the report go, wiped first "
                + "(default: .ferry/chaos).")
        Path dir = Path.of(".ferry", "chaos");

        @Option(names = "--dry-run", description = "Print the schedule and exit.")
        boolean dryRun;

        @Option(names = "--json", description = "Also print the final report as one line of JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ChaosOptions o = new ChaosOptions(hosts, instances, parseDuration(duration), seed, FaultKind.parseList(faults),
                    dir);
            PrintWriter out = spec.commandLine().getOut();
            if (dryRun) {
                Schedule s = Schedule.plan(o);
                s.print(out);
                out.println("replay: " + s.replayCommand());
                out.flush();
                return FerryCli.OK;
            }
            if (!Hypervisor.isAvailable()) {
                spec.commandLine().getErr().println("ferry: " + Hypervisor.unavailabilityCause());
                return FerryCli.KVM_UNAVAILABLE;
            }
            ChaosRun.Result r = new ChaosRun(o, out).run();
            out.println();
            out.print(r.report());
            if (json) {
                out.println(r.json());
            }
            out.flush();
            return r.exitCode() == 0 ? FerryCli.OK : FerryCli.GUEST_FAILED;
        }
    }

    /** 90s, 10m, 1h, 500ms, or a number of seconds. */
    static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("h")) {
                return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            return Duration.ofSeconds(Long.parseLong(t));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--duration " + text + ": use a number with s, m or h (120s, 10m)");
        }
    }
}
