package dev.ferry.cli;

import dev.ferry.host.client.HostClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "logs", description = "The guest console of an instance, from the host that runs it.")
final class LogsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", description = "The instance.")
    String instance;

    @Option(names = "--lines", defaultValue = "50", description = "How many lines (default: ${DEFAULT-VALUE}).")
    int lines;

    @Override
    public Integer call() throws Exception {
        if (lines < 1 || lines > 10_000) {
            throw new IllegalArgumentException("--lines must be 1 to 10000, not " + lines);
        }
        try (HostClient c = cluster.join()) {
            var r = ClusterOptions.orchestrator(c).instance(instance);
            if (r.getHost().isEmpty()) {
                spec.commandLine().getErr().println("ferry: unknown instance " + instance);
                return FerryCli.USAGE;
            }
            var agent = c.awaitHosts(1, Duration.ofSeconds(30)).get(r.getHost());
            if (agent == null) {
                spec.commandLine().getErr().println("ferry: host " + r.getHost() + " of " + instance + " is not reachable");
                return FerryCli.GUEST_FAILED;
            }
            for (String l : c.console(agent, instance, lines).getLinesList()) {
                spec.commandLine().getOut().println(l);
            }
            return FerryCli.OK;
        }
    }
}
