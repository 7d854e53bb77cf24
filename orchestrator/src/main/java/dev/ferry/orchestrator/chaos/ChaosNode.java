package dev.ferry.orchestrator.chaos;

import dev.ferry.host.local.HostProcess;
import dev.ferry.host.local.NetworkNamespace;
import java.nio.file.Path;

/**
 * One node of the chaos cluster: its name, what it is, where it listens (in its own network namespace when the run has
 * partitions), its data directory and the port it keeps across restarts, and its current process.
 */
final class ChaosNode {
    enum Kind { HOST, ORCHESTRATOR, STORAGE }

    private final String name;
    private final Kind kind;
    private final NetworkNamespace namespace;
    private final String address;
    private final Path dataDir;
    private volatile int port;
    private volatile HostProcess process;
    private volatile int starts;

    ChaosNode(String name, Kind kind, NetworkNamespace namespace, String address, Path dataDir) {
        this.name = name;
        this.kind = kind;
        this.namespace = namespace;
        this.address = address;
        this.dataDir = dataDir;
    }

    String name() {
        return name;
    }

    Kind kind() {
        return kind;
    }

    /** Null when the node runs in this machine's own namespace. */
    NetworkNamespace namespace() {
        return namespace;
    }

    String address() {
        return address;
    }

    Path dataDir() {
        return dataDir;
    }

    int port() {
        return port;
    }

    HostProcess process() {
        return process;
    }

    int starts() {
        return starts;
    }

    void started(HostProcess p) {
        process = p;
        starts++;
        if (p.boundPort() > 0) {
            port = p.boundPort();
        }
    }

    boolean isAlive() {
        HostProcess p = process;
        return p != null && p.isAlive();
    }

    /** The node's cluster address as Pekko writes it ({@code pekko://ferry@ADDRESS:PORT}). */
    String clusterAddress() {
        return "pekko://ferry@" + address + ":" + port;
    }
}
