package dev.ferry.cli;

import dev.ferry.host.client.HostClient;
import dev.ferry.orchestrator.OrchestratorClient;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** How a command finds the cluster: {@code --seeds}, or the local cluster 'ferry cluster up' started. */
final class ClusterOptions {
    @Option(names = "--seeds", split = ",", description = "Seed nodes host:port (default: the local cluster's).")
    List<String> seeds;

    @Option(names = "--cluster-dir", description = "The local cluster's directory (default: .ferry/cluster).")
    Path dir = ClusterFile.DEFAULT_DIR;

    HostClient join() throws Exception {
        return HostClient.join(ClusterFile.seeds(seeds, dir), Path.of(System.getProperty("java.io.tmpdir"),
                "ferry-client-" + ProcessHandle.current().pid()));
    }

    static OrchestratorClient orchestrator(HostClient c) {
        return new OrchestratorClient(c);
    }
}
