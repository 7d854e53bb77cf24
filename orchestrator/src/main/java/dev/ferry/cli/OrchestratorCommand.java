package dev.ferry.cli;

import dev.ferry.orchestrator.OrchestratorNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "orchestrator", description = {
    "Run an orchestrator node: the sharded instance registry, its sagas and reconciler, and optionally the HTTP API.",
    "One orchestrator node can use the embedded journal; several must share PostgreSQL (--journal postgres)."})
final class OrchestratorCommand implements Callable<Integer> {
    @Option(names = "--name", required = true, description = "The node's name (o1, ...).")
    String name;

    @Option(names = "--port", defaultValue = "0", description = "Cluster port on 127.0.0.1; 0 picks a free one (default).")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "Address the cluster port binds and advertises (default: ${DEFAULT-VALUE}). Another address "
                    + "exposes the node: turn on cluster TLS (README, Security).")
    String bind;

    @Option(names = "--data", required = true, description = "Data directory (the embedded journal lives here).")
    Path data;

    @Option(names = "--seeds", split = ",", required = true, description = "Seed nodes, host:port[,host:port].")
    List<String> seeds;

    @Option(names = "--journal", defaultValue = "leveldb",
            description = "leveldb (embedded, one orchestrator node) or postgres (shared; connection from "
                    + "FERRY_POSTGRES_URL, FERRY_POSTGRES_USER, FERRY_POSTGRES_PASSWORD) (default: ${DEFAULT-VALUE}).")
    String journal;

    @Option(names = "--http-port", description = "Serve the HTTP API on this port of 127.0.0.1 (0: any free port).")
    Integer httpPort;

    @Override
    public Integer call() throws Exception {
        Ports.check("--port", port);
        if (httpPort != null) {
            Ports.check("--http-port", httpPort);
        }
        if (!journal.equals("leveldb") && !journal.equals("postgres")) {
            throw new IllegalArgumentException("--journal must be leveldb or postgres, not '" + journal + "'");
        }
        System.setProperty("ferry.journal", journal);
        List<String> args = new ArrayList<>(List.of("--name", name, "--port", Integer.toString(port), "--bind", bind, "--data",
                data.toString(), "--seeds", String.join(",", seeds)));
        if (httpPort != null) {
            args.addAll(List.of("--http-port", Integer.toString(httpPort)));
        }
        OrchestratorNode.main(args.toArray(String[]::new));
        return FerryCli.OK;
    }
}
