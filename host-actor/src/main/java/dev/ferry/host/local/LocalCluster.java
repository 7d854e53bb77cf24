package dev.ferry.host.local;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Host JVMs on 127.0.0.1 (or another address of this machine) plus a client node in this JVM; everything it started is
 * stopped by {@link #close()} (hosts are killed: their journals stay in their data directories). A node may run under
 * a command prefix, in a network namespace of its own, bound to an address there ({@link #startHostAt}).
 */
public final class LocalCluster implements AutoCloseable {
    private static final String LOOPBACK = "127.0.0.1";
    private final Path dir;
    private final int seedPort;
    private final String bindHost;
    private final Map<String, HostProcess> hosts = new LinkedHashMap<>();
    private HostClient client;
    private boolean outliving;

    public LocalCluster(Path dir) throws IOException {
        this(dir, LOOPBACK);
    }

    /** Nodes (and the client) listen on {@code bindHost}, an address of this machine, rather than 127.0.0.1. */
    public LocalCluster(Path dir, String bindHost) throws IOException {
        this.dir = dir;
        this.bindHost = bindHost;
        try (ServerSocket s = new ServerSocket(0)) {
            this.seedPort = s.getLocalPort();
        }
    }

    /**
     * Nodes started from now on run on after this process ends ({@code ferry cluster up}); otherwise each stops once
     * this process is gone, even if it was killed ({@link ParentWatch}).
     */
    public LocalCluster nodesOutliveThisProcess() {
        outliving = true;
        return this;
    }

    private HostProcess owned(HostProcess h) {
        return outliving ? h.outlivingThisProcess() : h;
    }

    public String seed() {
        return bindHost + ":" + seedPort;
    }

    /** The address nodes listen on unless started elsewhere. */
    public String bindHost() {
        return bindHost;
    }

    /** Starts host {@code name}; the first host started is the seed. Other nodes may be started concurrently. */
    public HostProcess startHost(String name, long memoryCapacity, String... jvmProperties) throws Exception {
        return startHostAt(name, memoryCapacity, bindHost, List.of(), jvmProperties);
    }

    /**
     * Starts host {@code name} bound to {@code host} and run under {@code commandPrefix} ({@code ip netns exec NS}
     * with an address inside namespace NS, say; the prefix must exec the JVM). Also restarts a host that was stopped.
     */
    public HostProcess startHostAt(String name, long memoryCapacity, String host, List<String> commandPrefix,
                                   String... jvmProperties) throws Exception {
        HostProcess h;
        synchronized (hosts) {
            boolean first = hosts.isEmpty() || hosts.keySet().iterator().next().equals(name);
            h = owned(new HostProcess(name, dir.resolve(name), first ? seedPort : portOfPrevious(name), seed(),
                    memoryCapacity, List.of(jvmProperties))).withArgs(bindArgs(host)).withCommandPrefix(commandPrefix);
            hosts.put(name, h);
        }
        return h.start();
    }

    private static List<String> bindArgs(String host) {
        return host.equals(LOOPBACK) ? List.of() : List.of("--bind", host);
    }

    /** Starts a node of another kind (an orchestrator, say) in this cluster; never the seed. */
    public HostProcess startNode(String mainClass, String upLine, String name, String... jvmProperties) throws Exception {
        return startNode(mainClass, upLine, name, List.of(), jvmProperties);
    }

    /** As above, with options of the node's own ({@code --http-port 0}, say) after the common ones. */
    public HostProcess startNode(String mainClass, String upLine, String name, List<String> nodeArgs,
                                 String... jvmProperties) throws Exception {
        HostProcess h = owned(new HostProcess(mainClass, upLine, name, dir.resolve(name), portOfPrevious(name), seed(),
                1L << 30, List.of(jvmProperties))).withArgs(bindArgs(bindHost)).withArgs(nodeArgs);
        synchronized (hosts) {
            hosts.put(name, h);
        }
        return h.start();
    }

    /**
     * Runs {@code starts} (of nodes, or of the {@link #client()}) at once and waits for them all: each spends much of
     * its start waiting to join. The seed must be up already.
     */
    public void startTogether(List<Callable<?>> starts) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(starts.size());
        try {
            List<Future<?>> started = starts.stream().<Future<?>>map(pool::submit).toList();
            for (Future<?> f : started) {
                f.get(180, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A node restarted under its old name takes its old port: the cluster then sees a new incarnation of the same
     * member and removes the dead one at once, instead of waiting for the split-brain resolver to down it.
     */
    private int portOfPrevious(String name) {
        synchronized (hosts) {
            HostProcess previous = hosts.get(name);
            return previous != null && !previous.isAlive() && previous.boundPort() > 0 ? previous.boundPort() : 0;
        }
    }

    /** Every node started, by name. */
    public Map<String, HostProcess> nodes() {
        synchronized (hosts) {
            return Map.copyOf(hosts);
        }
    }

    /** Leaves every node running (for {@code ferry cluster up}): close() then only stops the client. */
    public void detach() {
        synchronized (hosts) {
            hosts.clear();
        }
    }

    public HostProcess host(String name) {
        synchronized (hosts) {
            return hosts.get(name);
        }
    }

    public synchronized HostClient client() throws Exception {
        if (client == null) {
            client = HostClient.join(List.of(seed()), dir.resolve("client"), bindHost);
        }
        return client;
    }

    public Map<String, ActorRef<GeneratedMessage>> agents(int n) throws Exception {
        return client().awaitHosts(n, Duration.ofSeconds(60));
    }

    @Override
    public void close() throws Exception {
        List<Exception> errors = new ArrayList<>();
        if (client != null) {
            client.close();
        }
        for (HostProcess h : nodes().values()) {
            if (Boolean.getBoolean("ferry.cluster.print-logs")) {
                System.out.println("---- log of host " + h.name() + " (tail) ----\n" + h.tail());
            }
            try {
                h.kill();
            } catch (Exception e) {
                errors.add(e);
            }
        }
        if (!errors.isEmpty()) {
            throw errors.get(0);
        }
    }
}
