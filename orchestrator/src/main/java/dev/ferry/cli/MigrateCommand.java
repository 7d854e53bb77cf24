package dev.ferry.cli;

import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.MigrationDone;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "migrate", description = "Live-migrate a running instance, with progress, and print a summary.")
final class MigrateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", description = "The instance.")
    String instance;

    @Option(names = "--to", description = "Destination host (default: the host with the most free memory).")
    String to;

    @Option(names = "--downtime", defaultValue = "50ms", description = "Downtime limit, e.g. 50ms or 0.2s (default: ${DEFAULT-VALUE}).")
    String downtime;

    /** {@code 50ms}, {@code 0.2s}, {@code 500us} in microseconds: at least one, and finite. */
    static long micros(String text) {
        String t = text.trim();
        double scale = t.endsWith("ms") ? 1e3 : t.endsWith("us") ? 1 : t.endsWith("s") ? 1e6 : Double.NaN;
        if (!Double.isNaN(scale)) {
            try {
                double v = Double.parseDouble(t.substring(0, t.length() - (scale == 1e6 ? 1 : 2))) * scale;
                if (v >= 1 && v < Long.MAX_VALUE) {
                    return (long) v;
                }
            } catch (NumberFormatException e) {
                // the message below
            }
        }
        throw new IllegalArgumentException("--downtime '" + text + "' is not a duration of at least 1us (examples: 50ms, 0.2s)");
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        long limit = micros(downtime);
        try (HostClient c = cluster.join()) {
            MigrationDone d = ClusterOptions.orchestrator(c).migrate(instance, to, limit, p -> {
                double leftBytes = p.getPagesLeft() * 4096.0;
                String eta = p.getGbps() > 0 ? String.format("%.1f s", leftBytes * 8 / (p.getGbps() * 1e9)) : "-";
                out.printf("\r%-14s round %-3d %8.1f MiB left %7.2f Gbit/s  ETA %-8s dirty %8.0f pages/s%s", p.getPhase(),
                        p.getRound(), leftBytes / 1048576.0, p.getGbps(), eta, p.getDirtyPagesPerS(),
                        p.getThrottlePercent() > 0 ? "  throttle " + p.getThrottlePercent() + "%" : "");
                out.flush();
            }, Duration.ofMinutes(30));
            out.println();
            if (!d.getOk()) {
                spec.commandLine().getErr().println("ferry: migration of " + instance + " failed: " + d.getError());
                return FerryCli.GUEST_FAILED;
            }
            out.printf("migrated %s to %s: total %.1f ms, downtime %.1f ms, %d rounds, %.1f MiB sent, %.2f Gbit/s%n",
                    instance, d.getDestinationHost(), d.getTotalMicros() / 1e3, d.getDowntimeMicros() / 1e3, d.getRounds(),
                    d.getBytes() / 1048576.0, d.getGbps());
            if (d.hasSwitchover()) {
                out.println("  downtime: " + dev.ferry.host.migration.SwitchoverReport.line(d.getSwitchover()));
            }
            return FerryCli.OK;
        }
    }
}
