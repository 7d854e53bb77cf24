package dev.ferry.bench;

import dev.ferry.host.local.HostProcess;
import dev.ferry.host.local.NetworkNamespace;
import dev.ferry.host.storage.StorageNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The deploy bench's NBD server across a real link of a given rate: a storage node ({@link StorageNode}, its own
 * cluster's only member) in a JVM of its own, run in a network namespace joined to this one by a veth pair whose ends
 * each send at most that rate ({@link NetworkNamespace#limitRate}). {@link #close()} stops the JVM, then deletes the
 * namespace and the pair; a shutdown hook does the same if this JVM ends first (a SIGKILL of it leaves them).
 */
final class ShapedImageServer implements ImageServer {
    /** The namespace is new and the node alone in it: the usual ports are free there. */
    private static final int CLUSTER_PORT = 25520;
    private static final int NBD_PORT = 10809;

    private final NetworkNamespace ns;
    private final LinkRate rate;
    private final HostProcess node;
    private final Thread cleanup;

    private ShapedImageServer(NetworkNamespace ns, LinkRate rate, HostProcess node) {
        this.ns = ns;
        this.rate = rate;
        this.node = node;
        this.cleanup = new Thread(this::stop, "ferry-bench-link-cleanup");
    }

    /** Creates the namespace, limits its pair to {@code rate} and starts the node serving {@code images} inside. */
    static ShapedImageServer start(Path images, Path dir, LinkRate rate) throws Exception {
        if (!NetworkNamespace.isAvailable()) {
            throw new IllegalStateException("a shaped link needs a network namespace: "
                    + NetworkNamespace.unavailabilityCause());
        }
        NetworkNamespace ns = NetworkNamespace.create();
        String inside = ns.insideAddress();
        HostProcess node = new HostProcess(StorageNode.class.getName(), StorageNode.UP_LINE, "link-storage",
                dir.resolve("link-storage"), CLUSTER_PORT, inside + ":" + CLUSTER_PORT, 1L << 30, List.of())
                .withArgs(List.of("--bind", inside, "--images", images.toAbsolutePath().toString(),
                        "--nbd-port", Integer.toString(NBD_PORT)))
                .withCommandPrefix(ns.commandPrefix());
        ShapedImageServer s = new ShapedImageServer(ns, rate, node);
        Runtime.getRuntime().addShutdownHook(s.cleanup);
        try {
            ns.limitRate(rate.bitsPerSecond());
            node.start();
        } catch (Exception | Error e) {
            s.close();
            throw e;
        }
        return s;
    }

    @Override
    public String host() {
        return ns.insideAddress();
    }

    @Override
    public int port() {
        return NBD_PORT;
    }

    @Override
    public LinkRate rate() {
        return rate;
    }

    @Override
    public String link() {
        return "a veth link limited to " + rate + " each way (tbf), to the NBD server in a JVM of its own in a "
                + "network namespace";
    }

    /** The server JVM's process id (for checks that it is gone after {@link #close()}). */
    long serverPid() {
        return node.pid();
    }

    NetworkNamespace namespace() {
        return ns;
    }

    @Override
    public long serverCpuNanos() {
        if (!node.isAlive()) {
            return 0;
        }
        return ProcessHandle.of(node.pid()).flatMap(h -> h.info().totalCpuDuration()).map(Duration::toNanos)
                .orElse(0L);
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it stops what is left
        }
    }

    /** Ends the node's JVM (its namespace cannot go while it runs), then deletes the namespace and the pair. */
    private synchronized void stop() {
        try {
            node.kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ns.close();
        }
    }
}
