package dev.ferry.cli;

import dev.ferry.host.local.HostProcess;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.host.storage.StorageNode;
import dev.ferry.orchestrator.OrchestratorNode;
import dev.ferry.orchestrator.http.HttpServer;
import dev.ferry.vmm.Hypervisor;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "cluster", description = "Start or stop a local cluster (an orchestrator and host JVMs on 127.0.0.1).",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Down.class})
final class ClusterCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "up", description = "Start an orchestrator and N hosts; they keep running until 'ferry cluster down'.")
    static final class Up implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--hosts", defaultValue = "3", description = "How many hosts (default: ${DEFAULT-VALUE}).")
        int hosts;

        @Option(names = "--host-memory", defaultValue = "4G", converter = MemorySizeConverter.class,
                description = "Memory each host gives guests (default: ${DEFAULT-VALUE}).")
        long hostMemory;

        @Option(names = "--dir", description = "Where the cluster's data and logs go (default: .ferry/cluster).")
        Path dir = ClusterFile.DEFAULT_DIR;

        @Option(names = "--images", description = "The images storage node s1 serves over NBD (default: DIR/images).")
        Path images;

        @Option(names = "--http-port", defaultValue = "8086", description = "The orchestrator's HTTP API on 127.0.0.1; "
                + "any free port when this one is taken, 0 for any (default: ${DEFAULT-VALUE}).")
        int httpPort;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Ports.check("--http-port", httpPort);
            if (!Hypervisor.isAvailable()) {
                spec.commandLine().getErr().println("ferry: " + Hypervisor.unavailabilityCause());
                return FerryCli.KVM_UNAVAILABLE;
            }
            if (hosts < 1 || hosts > 16) {
                throw new IllegalArgumentException("--hosts must be 1 to 16");
            }
            if (java.nio.file.Files.exists(dir.resolve("cluster.properties"))) {
                throw new IllegalArgumentException("a cluster is already up at " + dir + " ('ferry cluster down' first)");
            }
            LocalCluster cluster = new LocalCluster(dir.toAbsolutePath()).nodesOutliveThisProcess();
            Map<String, Long> pids = new LinkedHashMap<>();
            try {
                for (int i = 1; i <= hosts; i++) {
                    HostProcess h = cluster.startHost("h" + i, hostMemory);
                    pids.put(h.name(), h.pid());
                    out.printf("host h%d up (pid %d, log %s)%n", i, h.pid(), h.log());
                    out.flush();
                }
                Path imageDir = (images != null ? images : dir.resolve("images")).toAbsolutePath();
                Files.createDirectories(imageDir);
                HostProcess st = cluster.startNode(StorageNode.class.getName(), StorageNode.UP_LINE, "s1",
                        List.of("--images", imageDir.toString()));
                pids.put(st.name(), st.pid());
                java.util.regex.Matcher nbd = java.util.regex.Pattern.compile(" nbd (\\S+)").matcher(Files.readString(st.log()));
                out.printf("storage s1 up (pid %d, images %s, nbd %s, log %s)%n", st.pid(), imageDir,
                        nbd.find() ? nbd.group(1) : "?", st.log());
                out.flush();
                HostProcess o = cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, "orchestrator",
                        List.of("--http-port", Integer.toString(isFree(httpPort) ? httpPort : 0)));
                pids.put(o.name(), o.pid());
                out.printf("orchestrator up (pid %d, log %s)%n", o.pid(), o.log());
                String http = HttpServer.listeningUrl(Files.readString(o.log())).orElse(null);
                if (http != null) {
                    out.println("HTTP API at " + http + " (no authentication: keep it on 127.0.0.1)");
                }
                new ClusterFile(dir, cluster.seed(), pids, http).write();
                cluster.detach();
            } finally {
                cluster.close();
            }
            out.println("cluster up: seed " + cluster.seed() + "; stop it with 'ferry cluster down'");
            return FerryCli.OK;
        }

        private static boolean isFree(int port) {
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return true;
            } catch (IOException taken) {
                return false;
            }
        }
    }

    @Command(name = "down", description = "Stop every node 'ferry cluster up' started.")
    static final class Down implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", description = "The cluster's directory (default: .ferry/cluster).")
        Path dir = ClusterFile.DEFAULT_DIR;

        @Override
        public Integer call() throws Exception {
            ClusterFile f = ClusterFile.read(dir);
            for (Map.Entry<String, Long> e : f.pids().entrySet()) {
                var ph = ProcessHandle.of(e.getValue());
                if (ph.isPresent() && ph.get().isAlive() && !isFerryNode(ph.get())) {
                    spec.commandLine().getErr().println("ferry: pid " + e.getValue() + " (" + e.getKey()
                            + ") is not a Ferry node any more; left alone");
                    continue;
                }
                if (ph.isPresent() && ph.get().isAlive()) {
                    ph.get().destroy();
                    try {
                        ph.get().onExit().get(15, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException t) {
                        ph.get().destroyForcibly();
                    }
                    spec.commandLine().getOut().println("stopped " + e.getKey() + " (pid " + e.getValue() + ")");
                }
            }
            f.delete();
            return FerryCli.OK;
        }

        /** A process this file may stop: a JVM running a Ferry node's main class (a pid may have been reused). */
        static boolean isFerryNode(ProcessHandle p) {
            return p.info().commandLine().map(c -> c.contains(" dev.ferry.")).orElse(false);
        }
    }
}
