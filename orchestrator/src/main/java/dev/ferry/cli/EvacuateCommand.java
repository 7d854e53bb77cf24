package dev.ferry.cli;

import dev.ferry.host.client.HostClient;
import dev.ferry.orchestrator.OrchestratorClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "evacuate", description = "Move every instance off a host (for maintenance), a few at a time.")
final class EvacuateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", description = "The host to empty.")
    String host;

    @Option(names = "--parallel", defaultValue = "2", description = "Migrations at once (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--downtime", defaultValue = "50ms", description = "Downtime limit per migration (default: ${DEFAULT-VALUE}).")
    String downtime;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (parallel < 1 || parallel > 16) {
            throw new IllegalArgumentException("--parallel must be 1 to 16");
        }
        long limit = MigrateCommand.micros(downtime);
        try (HostClient c = cluster.join()) {
            OrchestratorClient orch = ClusterOptions.orchestrator(c);
            if (orch.status().getHostsList().stream().noneMatch(h -> h.getHost().equals(host))) {
                throw new IllegalArgumentException("unknown host " + host);
            }
            var results = orch.evacuate(host, parallel, limit, Duration.ofMinutes(30));
            boolean all = true;
            out.printf("%-24s %-8s %-10s %s%n", "INSTANCE", "TO", "DOWNTIME", "RESULT");
            for (var r : results) {
                var d = r.result();
                out.printf("%-24s %-8s %-10s %s%n", r.instanceId(), d.getOk() ? d.getDestinationHost() : "-",
                        d.getOk() ? String.format("%.1f ms", d.getDowntimeMicros() / 1e3) : "-",
                        d.getOk() ? "moved" : "FAILED: " + d.getError());
                all &= d.getOk();
            }
            out.println(results.isEmpty() ? "nothing runs on " + host : host + " is " + (all ? "empty" : "NOT empty"));
            return all ? FerryCli.OK : FerryCli.GUEST_FAILED;
        }
    }
}
