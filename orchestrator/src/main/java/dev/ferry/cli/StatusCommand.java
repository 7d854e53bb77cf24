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

    /** The streaming deployments the host agents report, live from each agent. */
    private static void deployments(HostClient c, int hosts, PrintWriter out) {
        java.util.List<String[]> rows = new java.util.ArrayList<>();
        try {
            var agents = c.awaitHosts(Math.max(1, hosts), java.time.Duration.ofSeconds(10));
            for (var e : new java.util.TreeMap<>(agents).entrySet()) {
                for (var i : c.list(e.getValue()).getInstancesList()) {
                    if (i.getDeployState().isEmpty()) {
                        continue;
                    }
                    double mib = 1 << 20;
                    rows.add(new String[] {i.getInstanceId(), e.getKey(), i.getImage(), i.getDeployState(),
                            String.format("%.0f/%.0f MiB", i.getCopiedBytes() / mib, i.getTotalBytes() / mib),
                            i.getCopyBps() > 0 ? String.format("%.1f MiB/s", i.getCopyBps() / mib) : "",
                            i.getFirstLineMs() >= 0 ? i.getFirstLineMs() + " ms" : "",
                            i.getDevirtMs() >= 0 ? i.getDevirtMs() + " ms" : "", i.getDeployMessage()});
                }
            }
        } catch (Exception e) {
            out.println();
            out.println("deployments: not every host agent answered (" + e.getMessage() + ")");
            return;
        }
        if (rows.isEmpty()) {
            return;
        }
        out.println();
        String f = "%-24s %-8s %-16s %-11s %-18s %-12s %-10s %-8s %s%n";
        out.printf(f, "DEPLOYMENT", "HOST", "IMAGE", "STATE", "COPIED", "COPY RATE", "1ST LINE", "DEVIRT", "NOTE");
        for (String[] r : rows) {
            out.printf(f, (Object[]) r);
        }
    }

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
            deployments(c, s.getHostsList().size(), out);
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
