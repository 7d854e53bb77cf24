package dev.ferry.cli;

import dev.ferry.host.HostNode;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "host", description = "Run a host node: a cluster member whose agent owns this host's VMs and migrates them.")
final class HostCommand implements Callable<Integer> {
    @Option(names = "--name", required = true, description = "The host's name in the cluster (h1, rack3-07, ...).")
    String name;

    @Option(names = "--port", defaultValue = "0", description = "Cluster port on 127.0.0.1; 0 picks a free one (default).")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "Address the cluster port binds and advertises (default: ${DEFAULT-VALUE}). Another address "
                    + "exposes the node: turn on cluster TLS (README, Security).")
    String bind;

    @Option(names = "--data", required = true, description = "Data directory: this host's journal and snapshots.")
    Path data;

    @Option(names = "--seeds", split = ",", description = "Seed nodes, host:port[,host:port]; this node's own address to start a cluster.")
    List<String> seeds = List.of();

    @Option(names = "--memory-capacity", converter = MemorySizeConverter.class,
            description = "Memory this host gives guests (default: physical memory less 2 GiB).")
    Long capacity;

    @Override
    public Integer call() throws Exception {
        Ports.check("--port", port);
        if (dev.ferry.vmm.Hypervisor.isAvailable()) {
            List<String> s = seeds.isEmpty() ? List.of(bind + ":" + port) : seeds;
            if (seeds.isEmpty() && port == 0) {
                throw new IllegalArgumentException("give --seeds, or a fixed --port for a node that starts a cluster");
            }
            String[] args = {"--name", name, "--port", Integer.toString(port), "--bind", bind, "--data", data.toString(),
                "--seeds", String.join(",", s)};
            if (capacity != null) {
                args = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                        java.util.stream.Stream.of("--memory-capacity", Long.toString(capacity))).toArray(String[]::new);
            }
            HostNode.main(args);
            return FerryCli.OK;
        }
        System.err.println("ferry: " + dev.ferry.vmm.Hypervisor.unavailabilityCause());
        return FerryCli.KVM_UNAVAILABLE;
    }
}
