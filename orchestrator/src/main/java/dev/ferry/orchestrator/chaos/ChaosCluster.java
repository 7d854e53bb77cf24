package dev.ferry.orchestrator.chaos;

import dev.ferry.host.HostNode;
import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.HostProcess;
import dev.ferry.host.local.NetworkNamespace;
import dev.ferry.host.storage.StorageNode;
import dev.ferry.orchestrator.OrchestratorNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;

/**
 * The cluster a chaos run breaks: hosts h1..hN, orchestrator o1 and storage node s1, each its own JVM, and this JVM's
 * client as the cluster's seed (it never dies, so nodes killed or downed rejoin the same cluster). With partitions,
 * every node runs in a network namespace of its own, routed through this machine's side of its veth pair; this JVM
 * listens on the side of an extra namespace that is never cut. Everything it starts (processes, namespaces, mounts, the
 * link proxy) is undone by {@link #close()}, also from a shutdown hook on Ctrl-C.
 */
final class ChaosCluster implements AutoCloseable {
    static final String IMAGE = "chaos.img";
    static final long IMAGE_BYTES = 32L << 20;
    static final long HOST_MEMORY = 2L << 30;
    static final int HOST_DISK_MIB = 160;
    static final String MARKER = ".ferry-chaos";
    /**
     * Every node of a chaos cluster tolerates heartbeat pauses this long before it calls a peer unreachable (Pekko's
     * default is 3 s): a few JVMs and guests on a small machine stall each other for seconds, and a node downed for
     * that is a fault the run did not inject.
     */
    static final String HEARTBEAT_PAUSE_KEY = "pekko.cluster.failure-detector.acceptable-heartbeat-pause";
    static final String HEARTBEAT_PAUSE = "8s";
    private static final Pattern NBD = Pattern.compile(" nbd (\\S+):(\\d+)");

    private final ChaosOptions options;
    private final Path dir;
    private final Map<String, ChaosNode> nodes = new LinkedHashMap<>();
    private final List<NetworkNamespace> namespaces = Collections.synchronizedList(new ArrayList<>());
    private final List<HostProcess> everyProcess = Collections.synchronizedList(new ArrayList<>());
    private final List<Integer> rootPorts = Collections.synchronizedList(new ArrayList<>());
    private final DiskFiller disks = new DiskFiller();
    private final Thread hook = new Thread(this::closeQuietly, "ferry-chaos-cleanup");
    private String localAddress = "127.0.0.1";
    private HostClient client;
    private LinkProxy proxy;
    private volatile boolean closed;

    ChaosCluster(ChaosOptions options) {
        this.options = options;
        this.dir = options.dir().toAbsolutePath().normalize();
    }

    Path dir() {
        return dir;
    }

    /** Creates namespaces, mounts, the client (the seed), the image and the proxy, then starts every node. */
    void start(java.util.function.Consumer<String> say) throws Exception {
        Runtime.getRuntime().addShutdownHook(hook);
        quietPekko();
        wipe();
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(MARKER), "made by ferry chaos run; wiped by the next run in this directory\n");
        if (options.needsNamespaces()) {
            if (!NetworkNamespace.isAvailable()) {
                throw new IllegalStateException("partitions need network namespaces: "
                        + NetworkNamespace.unavailabilityCause() + " (leave partition out of --faults)");
            }
            NetworkNamespace anchor = NetworkNamespace.create();
            namespaces.add(anchor);
            localAddress = anchor.outsideAddress();
        }
        List<String> names = new ArrayList<>(options.hostNames());
        names.add("o1");
        names.add("s1");
        for (String name : names) {
            ChaosNode.Kind kind = name.equals("o1") ? ChaosNode.Kind.ORCHESTRATOR
                    : name.equals("s1") ? ChaosNode.Kind.STORAGE : ChaosNode.Kind.HOST;
            NetworkNamespace ns = null;
            if (options.needsNamespaces()) {
                ns = NetworkNamespace.create();
                namespaces.add(ns);
                ns.routeThroughOutside();
            }
            Path data = dir.resolve(name);
            if (kind == ChaosNode.Kind.HOST && options.faults().contains(FaultKind.DISK_FULL)) {
                disks.mount(data, HOST_DISK_MIB);
            }
            nodes.put(name, new ChaosNode(name, kind, ns, ns == null ? "127.0.0.1" : ns.insideAddress(), data));
        }
        Path images = Files.createDirectories(dir.resolve("images"));
        try (RandomAccessFile f = new RandomAccessFile(images.resolve(IMAGE).toFile(), "rw")) {
            f.setLength(IMAGE_BYTES);
        }
        int seedPort = freePort(localAddress);
        rootPorts.add(seedPort);
        System.setProperty(HEARTBEAT_PAUSE_KEY, HEARTBEAT_PAUSE);
        com.typesafe.config.ConfigFactory.invalidateCaches();
        client = HostClient.join(List.of(localAddress + ":" + seedPort), dir.resolve("client"), localAddress, seedPort);
        client.system().getWhenTerminated().thenRun(() -> {
            if (!closed) {
                say.accept("this runner's own node has left the cluster (downed by the others: is the machine overloaded?);"
                        + " the run cannot go on");
            }
        });
        say.accept("seed (this process) at " + localAddress + ":" + seedPort
                + (options.needsNamespaces() ? "; every node in a network namespace of its own" : ""));
        proxy = new LinkProxy(localAddress, options.seed());
        rootPorts.add(proxy.port());
        ExecutorService starts = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (ChaosNode n : nodes.values()) {
                all.add(starts.submit(() -> {
                    start(n);
                    say.accept(n.name() + " up (pid " + n.process().pid() + ", " + n.address() + ":" + n.port() + ")");
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get(300, TimeUnit.SECONDS);
            }
        } finally {
            starts.shutdownNow();
        }
    }

    /** Starts (or restarts, with the same name, data and port) the node's JVM and waits until it has joined. */
    void start(ChaosNode n) throws Exception {
        String seed = localAddress + ":" + rootPorts.get(0);
        String main = switch (n.kind()) {
            case HOST -> HostNode.class.getName();
            case ORCHESTRATOR -> OrchestratorNode.class.getName();
            case STORAGE -> StorageNode.class.getName();
        };
        String upLine = switch (n.kind()) {
            case HOST -> HostNode.UP_LINE;
            case ORCHESTRATOR -> OrchestratorNode.UP_LINE;
            case STORAGE -> StorageNode.UP_LINE;
        };
        HostProcess p = new HostProcess(main, upLine, n.name(), n.dataDir(), n.port(), seed,
                n.kind() == ChaosNode.Kind.HOST ? HOST_MEMORY : 1L << 30,
                List.of("-D" + HEARTBEAT_PAUSE_KEY + "=" + HEARTBEAT_PAUSE,
                        "-XX:ErrorFile=" + dir.resolve(n.name() + "-hs_err_%p.log")));
        if (!n.address().equals("127.0.0.1")) {
            p.withArgs(List.of("--bind", n.address()));
        }
        if (n.kind() == ChaosNode.Kind.STORAGE) {
            p.withArgs(List.of("--images", dir.resolve("images").toString()));
        }
        if (n.namespace() != null) {
            p.withCommandPrefix(n.namespace().commandPrefix());
        }
        everyProcess.add(p);
        try {
            p.start();
        } catch (RuntimeException e) {
            p.kill();
            throw e;
        }
        n.started(p);
        if (n.kind() == ChaosNode.Kind.STORAGE) {
            Matcher m = NBD.matcher(Files.readString(p.log()));
            String host = null;
            int port = -1;
            while (m.find()) {
                host = m.group(1);
                port = Integer.parseInt(m.group(2));
            }
            if (host == null) {
                throw new IllegalStateException("storage node s1 did not say where it serves NBD:\n" + p.tail());
            }
            proxy.target(host, port);
        }
    }

    HostClient client() {
        return client;
    }

    LinkProxy proxy() {
        return proxy;
    }

    DiskFiller disks() {
        return disks;
    }

    ChaosNode node(String name) {
        ChaosNode n = nodes.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no node " + name + " in this cluster");
        }
        return n;
    }

    List<ChaosNode> nodes() {
        return List.copyOf(nodes.values());
    }

    /** kill -9 of the node's JVM. */
    void kill(String name) throws InterruptedException {
        HostProcess p = node(name).process();
        if (p != null) {
            p.kill();
        }
    }

    void cut(String name) throws IOException, InterruptedException {
        node(name).namespace().cut();
    }

    void heal(String name) throws IOException, InterruptedException {
        node(name).namespace().heal();
    }

    /** Whether the cluster (as this JVM's client sees it) has the node as a member that is up. */
    boolean isMember(ChaosNode n) {
        Cluster c = Cluster.get(Adapter.toClassic(client.system()));
        for (Member m : c.state().getMembers()) {
            var a = m.address();
            if (a.host().isDefined() && a.host().get().equals(n.address()) && a.port().isDefined()
                    && (int) a.port().get() == n.port()) {
                return m.status() == MemberStatus.up() || m.status() == MemberStatus.weaklyUp();
            }
        }
        return false;
    }

    /** Whether the client sees the node as unreachable. */
    boolean isUnreachable(ChaosNode n) {
        Cluster c = Cluster.get(Adapter.toClassic(client.system()));
        for (Member m : c.state().getUnreachable()) {
            var a = m.address();
            if (a.host().isDefined() && a.host().get().equals(n.address()) && a.port().isDefined()
                    && (int) a.port().get() == n.port()) {
                return true;
            }
        }
        return false;
    }

    /** Every node process started so far, restarts included. */
    List<HostProcess> everyProcess() {
        synchronized (everyProcess) {
            return List.copyOf(everyProcess);
        }
    }

    List<NetworkNamespace> namespaces() {
        synchronized (namespaces) {
            return List.copyOf(namespaces);
        }
    }

    /** Ports this JVM listened on in this machine's own namespace (the seed, the proxy). */
    List<Integer> rootPorts() {
        synchronized (rootPorts) {
            return List.copyOf(rootPorts);
        }
    }

    String localAddress() {
        return localAddress;
    }

    /** Stops every node (kill -9: journals stay), the client and the proxy; removes fillers, mounts and namespaces. */
    @Override
    public synchronized void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        for (HostProcess p : everyProcess()) {
            p.kill();
        }
        if (client != null) {
            client.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        disks.close();
        for (NetworkNamespace ns : namespaces()) {
            ns.close();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is what runs this
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (Exception e) {
            System.err.println("ferry chaos: cleaning up: " + e);
        }
    }

    /**
     * This JVM's client sees every fault (unreachable members, failed associations) and Pekko logs each as a warning;
     * the nodes' own logs keep them. Only errors reach this process's output.
     */
    private static void quietPekko() {
        if (org.slf4j.LoggerFactory.getLogger("org.apache.pekko") instanceof ch.qos.logback.classic.Logger l) {
            l.setLevel(ch.qos.logback.classic.Level.ERROR);
        }
    }

    private static int freePort(String address) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
            return s.getLocalPort();
        }
    }

    /** Removes what an earlier run left in the directory (unmounting first what a killed run left mounted). */
    private void wipe() throws IOException, InterruptedException {
        if (!Files.exists(dir)) {
            return;
        }
        boolean empty;
        try (var list = Files.list(dir)) {
            empty = list.findAny().isEmpty();
        }
        if (!empty && !Files.exists(dir.resolve(MARKER))) {
            throw new IllegalArgumentException(dir + " is not empty and was not made by ferry chaos (no " + MARKER
                    + " in it): give --dir a new or empty directory");
        }
        for (Path m : DiskFiller.mountsUnder(dir)) {
            DiskFiller.unmount(m);
        }
        try (var all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
