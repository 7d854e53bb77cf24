package dev.ferry.cli;

import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.HostSummary;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.vmm.memory.MemorySize;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "status", description = "Hosts and instances as tables.")
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (HostClient c = cluster.join()) {
            var s = ClusterOptions.orchestrator(c).status();
            out.printf("%-10s %-10s %-10s %s%n", "HOST", "CAPACITY", "FREE", "INSTANCES");
            for (HostSummary h : s.getHostsList().stream().sorted((a, b) -> a.getHost().compareTo(b.getHost())).toList()) {
                out.printf("%-10s %-10s %-10s %d%n", h.getHost(), MemorySize.format(h.getMemoryCapacity()),
                        MemorySize.format(h.getMemoryFree()), h.getInstances());
            }
            out.println();
            out.printf("%-24s %-10s %-8s %-6s %-10s %-5s %s%n", "INSTANCE", "GUEST", "HOST", "EPOCH", "STATE",
                    "CKPTS", "NOTE");
            for (RegisteredInstance i : s.getInstancesList()) {
                String note = !i.getLostReason().isEmpty() ? i.getLostReason()
                        : i.getLastCheckpoint().isEmpty() ? "" : "last checkpoint " + i.getLastCheckpoint();
                out.printf("%-24s %-10s %-8s %-6d %-10s %-5d %s%n", i.getInstanceId(), i.getGuest(), i.getHost(),
                        i.getEpoch(), i.getState(), i.getCheckpoints(), note);
            }
            if (cluster.seeds == null || cluster.seeds.isEmpty()) {
                String http = ClusterFile.read(cluster.dir).httpUrl();
                if (http != null) {
                    out.println();
                    out.println("HTTP API: " + http);
                }
            }
            return FerryCli.OK;
        }
    }
}
