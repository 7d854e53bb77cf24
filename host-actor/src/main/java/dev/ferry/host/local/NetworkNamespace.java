package dev.ferry.host.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace of this machine's own, joined to the current one by a veth pair with a private /30 (an address
 * outside, one inside), so that a node run inside ({@link #commandPrefix()}) can be cut off from the others and
 * joined again: a real network partition for tests; or reached over a link of a given rate ({@link #limitRate}), a
 * real bandwidth limit for benchmarks. Needs root and {@code ip} (iproute2); {@link #isAvailable()} and
 * {@link #unavailabilityCause()} say whether this machine has them. {@link #close()} deletes the namespace and the
 * pair, and so does a shutdown hook if the JVM ends first. Nodes run inside must have ended before {@link #close()},
 * or the namespace lives on (unnamed) until they do.
 */
public final class NetworkNamespace implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long PID = ProcessHandle.current().pid();
    private static final String UNAVAILABLE = probe();

    private final String name;
    private final String outsideDevice;
    private final String insideDevice;
    private final String outside;
    private final String inside;
    private final Thread cleanup;
    private boolean closed;
    private volatile boolean routed;

    private NetworkNamespace(String name, String device, String outside, String inside) {
        this.name = name;
        this.outsideDevice = device + "a";
        this.insideDevice = device + "b";
        this.outside = outside;
        this.inside = inside;
        this.cleanup = new Thread(this::delete, "ferry-netns-cleanup-" + name);
    }

    /** Whether this process may create network namespaces (root, {@code ip} present, namespaces permitted). */
    public static boolean isAvailable() {
        return UNAVAILABLE == null;
    }

    /** Why not, when {@link #isAvailable()} is false; null otherwise. */
    public static String unavailabilityCause() {
        return UNAVAILABLE;
    }

    /**
     * Creates namespace {@code ferry-PID-N} with a veth pair up on both sides: {@link #outsideAddress()} here,
     * {@link #insideAddress()} in the namespace (where loopback is up too).
     */
    public static NetworkNamespace create() throws IOException, InterruptedException {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException("cannot create a network namespace: " + UNAVAILABLE);
        }
        int n = COUNTER.incrementAndGet();
        int subnet = freeSubnet((int) ((PID * 31 + n) % 16384));
        String prefix = "10.231." + (subnet / 64) + ".";
        int base = (subnet % 64) * 4;
        // Interface names have at most 15 characters: "fy", the pid in hex (at most 6), "n", the counter, "a"/"b".
        NetworkNamespace ns = new NetworkNamespace("ferry-" + PID + "-" + n, "fy" + Long.toHexString(PID) + "n" + (n % 1000),
                prefix + (base + 1), prefix + (base + 2));
        Runtime.getRuntime().addShutdownHook(ns.cleanup);
        try {
            ip("netns", "add", ns.name);
            ip("link", "add", ns.outsideDevice, "type", "veth", "peer", "name", ns.insideDevice);
            ip("link", "set", ns.insideDevice, "netns", ns.name);
            ip("addr", "add", ns.outside + "/30", "dev", ns.outsideDevice);
            ip("link", "set", ns.outsideDevice, "up");
            ip("-n", ns.name, "addr", "add", ns.inside + "/30", "dev", ns.insideDevice);
            ip("-n", ns.name, "link", "set", ns.insideDevice, "up");
            ip("-n", ns.name, "link", "set", "lo", "up");
        } catch (IOException | RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    public String name() {
        return name;
    }

    /** This side's end of the pair: where nodes outside listen, so that nodes inside can reach them. */
    public String outsideAddress() {
        return outside;
    }

    /** The namespace's end of the pair: where a node inside listens. */
    public String insideAddress() {
        return inside;
    }

    /** {@code ip netns exec NAME}: runs a command inside; it execs the command, which keeps the process id. */
    public List<String> commandPrefix() {
        return List.of("ip", "netns", "exec", name);
    }

    /**
     * Routes everything the namespace does not reach directly through this side's end, and lets this side forward what
     * comes in through it (on this pair's device only): a node inside then reaches every address of this machine and
     * nodes in other namespaces routed the same way, not only the other end of its own pair. Kept across
     * {@link #cut()} and {@link #heal()}.
     */
    public void routeThroughOutside() throws IOException, InterruptedException {
        ip("-n", name, "route", "replace", "default", "via", outside);
        Result r = run(List.of("sysctl", "-q", "-w", "net.ipv4.conf." + outsideDevice + ".forwarding=1"));
        if (r.exit() != 0) {
            throw new IOException("cannot let " + outsideDevice + " forward (exit " + r.exit() + "): " + r.output());
        }
        routed = true;
    }

    /**
     * Caps each direction of the pair at {@code bitsPerSecond}: a token bucket filter ({@code tc qdisc ... tbf}) on the
     * egress of both ends, so that what a node inside sends and what it receives both cross a link of that rate (the
     * bucket holds 2 ms of it, at least 64 KiB; packets wait up to 20 ms for tokens). Again replaces the caps. They go
     * with the pair in {@link #close()}. Needs {@code tc} (iproute2).
     */
    public void limitRate(long bitsPerSecond) throws IOException, InterruptedException {
        if (bitsPerSecond < 8_000) {
            throw new IllegalArgumentException("a link rate of " + bitsPerSecond + " bit/s is too low to shape");
        }
        long burst = Math.max(64 << 10, bitsPerSecond / 8 / 500);
        List<String> tbf = List.of("root", "tbf", "rate", bitsPerSecond + "bit", "burst", Long.toString(burst),
                "latency", "20ms");
        List<String> outsideCap = new ArrayList<>(List.of("tc", "qdisc", "replace", "dev", outsideDevice));
        outsideCap.addAll(tbf);
        List<String> insideCap = new ArrayList<>(List.of("tc", "-n", name, "qdisc", "replace", "dev", insideDevice));
        insideCap.addAll(tbf);
        for (List<String> command : List.of(outsideCap, insideCap)) {
            Result r = run(command);
            if (r.exit() != 0) {
                throw new IOException("`" + String.join(" ", command) + "` failed (exit " + r.exit() + "): " + r.output());
            }
        }
    }

    /** Takes both ends of the pair down: nothing crosses until {@link #heal()}, and nothing says so (no resets). */
    public void cut() throws IOException, InterruptedException {
        ip("-n", name, "link", "set", insideDevice, "down");
        ip("link", "set", outsideDevice, "down");
    }

    /** Brings both ends up again (the routes of the /30 come back with them). */
    public void heal() throws IOException, InterruptedException {
        ip("link", "set", outsideDevice, "up");
        ip("-n", name, "link", "set", insideDevice, "up");
        if (routed) {
            // The default route went with the device; the /30's own route comes back by itself.
            ip("-n", name, "route", "replace", "default", "via", outside);
        }
    }

    /** Deletes the pair and the namespace; again is harmless. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        delete();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it deletes what is left
        }
    }

    /** Whether the namespace or this side's device still exist (for checks that a test left nothing behind). */
    public boolean exists() throws IOException, InterruptedException {
        return Files.exists(Path.of("/var/run/netns", name)) || run(List.of("ip", "link", "show", outsideDevice)).exit() == 0;
    }

    private void delete() {
        // Deleting one end of a veth pair deletes the other; then the namespace itself.
        try {
            run(List.of("ip", "link", "del", outsideDevice));
            run(List.of("ip", "netns", "del", name));
        } catch (IOException e) {
            System.err.println("cannot delete network namespace " + name + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int freeSubnet(int from) throws IOException, InterruptedException {
        String used = run(List.of("ip", "-o", "-4", "addr", "show")).output();
        for (int i = 0; i < 16384; i++) {
            int s = (from + i) % 16384;
            String net = " 10.231." + (s / 64) + "." + ((s % 64) * 4 + 1) + "/";
            if (!used.contains(net)) {
                return s;
            }
        }
        throw new IOException("every /30 of 10.231.0.0/16 is taken on this machine");
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("`" + String.join(" ", command) + "` did not end within 30 s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Result r = run(command);
        if (r.exit() != 0) {
            throw new IOException("`" + String.join(" ", command) + "` failed (exit " + r.exit() + "): " + r.output());
        }
    }

    private static String probe() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String effective = line.substring(4).trim().split("\\s+")[1];
                    if (!effective.equals("0")) {
                        return "network namespaces need root; this process runs as uid " + effective;
                    }
                }
            }
        } catch (IOException e) {
            return "cannot read /proc/self/status to learn the user id: " + e.getMessage();
        }
        String name = "ferry-" + PID + "-probe";
        try {
            Result add = run(List.of("ip", "netns", "add", name));
            if (add.exit() != 0) {
                return "`ip netns add " + name + "` failed (exit " + add.exit() + "): " + add.output();
            }
            Result del = run(List.of("ip", "netns", "del", name));
            return del.exit() == 0 ? null
                    : "`ip netns del " + name + "` failed (exit " + del.exit() + "): " + del.output();
        } catch (IOException e) {
            return "the `ip` command (iproute2) cannot be run: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while probing for network namespaces";
        }
    }
}
