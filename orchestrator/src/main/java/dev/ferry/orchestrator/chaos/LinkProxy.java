package dev.ferry.orchestrator.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of the storage node's NBD server that can slow a link down: while a delay is set for a peer
 * address (or for every peer, key {@code *}), each chunk it carries either way is held {@code delay} ms, and a share of
 * them another {@link #RETRANSMIT_MS} ms, as a lost segment costs a TCP connection a retransmission timeout (the bytes
 * themselves are never dropped: TCP would resend them). This machine's kernel has no {@code netem}, so this stands in
 * for {@code tc qdisc ... netem delay ... loss ...}. The target may change (a restarted storage node takes a new port);
 * new connections go to the new one.
 */
final class LinkProxy implements AutoCloseable {
    static final long RETRANSMIT_MS = 200;
    static final String EVERY_PEER = "*";

    /** The delay and loss of one link. */
    record Impairment(long delayMillis, int lossPercent) {}

    private final ServerSocket server;
    private final Map<String, Impairment> impaired = new ConcurrentHashMap<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final SplittableRandom random;
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong heldChunks = new AtomicLong();
    private volatile InetSocketAddress target;
    private volatile boolean closed;
    private final Thread acceptor;

    LinkProxy(String bindAddress, long seed) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(bindAddress), 0));
        random = new SplittableRandom(seed);
        acceptor = new Thread(this::accept, "chaos-link-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** host:port where peers connect. */
    String address() {
        return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
    }

    int port() {
        return server.getLocalPort();
    }

    void target(String host, int port) {
        target = new InetSocketAddress(host, port);
    }

    /** Delays (and loses) what crosses to and from {@code peer}, an address, or {@link #EVERY_PEER}. */
    void impair(String peer, Impairment i) {
        impaired.put(peer, i);
    }

    void restore(String peer) {
        impaired.remove(peer);
    }

    long connections() {
        return connections.get();
    }

    /** Chunks that were held back by a delay. */
    long heldChunks() {
        return heldChunks.get();
    }

    private Impairment impairmentOf(String peer) {
        Impairment i = impaired.get(peer);
        return i != null ? i : impaired.get(EVERY_PEER);
    }

    private void accept() {
        while (!closed) {
            Socket in;
            try {
                in = server.accept();
            } catch (IOException e) {
                return;
            }
            connections.incrementAndGet();
            InetSocketAddress to = target;
            Socket out = new Socket();
            try {
                if (to == null) {
                    throw new IOException("no target yet");
                }
                out.connect(to, 5_000);
            } catch (IOException e) {
                closeQuietly(in);
                closeQuietly(out);
                continue;
            }
            open.add(in);
            open.add(out);
            String peer = in.getInetAddress().getHostAddress();
            pump(in, out, peer);
            pump(out, in, peer);
        }
    }

    private record Chunk(byte[] bytes, long dueNanos) {}

    /** One direction: a reader that stamps each chunk with when it may go, a writer that sends it then. */
    private void pump(Socket from, Socket to, String peer) {
        BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>(256);
        Chunk end = new Chunk(new byte[0], 0);
        Thread reader = new Thread(() -> {
            long lastDue = 0;
            try (InputStream in = from.getInputStream()) {
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) > 0) {
                    Impairment i = impairmentOf(peer);
                    long due = System.nanoTime();
                    if (i != null) {
                        long extra = i.delayMillis();
                        synchronized (random) {
                            if (random.nextInt(100) < i.lossPercent()) {
                                extra += RETRANSMIT_MS;
                            }
                        }
                        due += extra * 1_000_000;
                        heldChunks.incrementAndGet();
                    }
                    due = Math.max(due, lastDue);
                    lastDue = due;
                    Chunk c = new Chunk(Arrays.copyOf(buf, n), due);
                    while (!queue.offer(c, 1, java.util.concurrent.TimeUnit.SECONDS)) {
                        if (from.isClosed()) {
                            return;
                        }
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the connection ended
            } finally {
                queue.offer(end);
            }
        }, "chaos-link-proxy-read");
        Thread writer = new Thread(() -> {
            try (OutputStream out = to.getOutputStream()) {
                while (true) {
                    Chunk c = queue.poll(1, java.util.concurrent.TimeUnit.SECONDS);
                    if (c == null) {
                        if (closed || (from.isClosed() && to.isClosed())) {
                            break;
                        }
                        continue;
                    }
                    if (c == end) {
                        break;
                    }
                    long wait = c.dueNanos() - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    out.write(c.bytes());
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the connection ended
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        }, "chaos-link-proxy-write");
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        open.forEach(LinkProxy::closeQuietly);
        open.clear();
    }
}
