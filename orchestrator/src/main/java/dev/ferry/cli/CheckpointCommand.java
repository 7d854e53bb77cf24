package dev.ferry.cli;

import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.CheckpointResult;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "checkpoint", description = "Checkpoint a running instance where it runs; the registry remembers the file.")
final class CheckpointCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", description = "The instance.")
    String instance;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (HostClient c = cluster.join()) {
            CheckpointResult r = ClusterOptions.orchestrator(c).checkpoint(instance);
            if (!r.getOk()) {
                spec.commandLine().getErr().println("ferry: checkpoint of " + instance + " failed: " + r.getError());
                return FerryCli.GUEST_FAILED;
            }
            out.printf("checkpointed %s on %s: %s (%.1f MiB), guest paused %.1f ms, total %.1f ms%n", instance,
                    r.getHost(), r.getPath(), r.getBytes() / 1048576.0, r.getPauseMicros() / 1e3, r.getTotalMicros() / 1e3);
            return FerryCli.OK;
        }
    }
}
