package dev.ferry.storage.nbd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A read-only NBD server (fixed newstyle, simple replies) for the image files of one directory: each regular file is
 * an export named by its file name. One thread per connection; requests on a connection are answered in order.
 * Writes, trims and zeroing are refused with EPERM, reads past the end or longer than {@link Nbd#MAX_PAYLOAD} with
 * EINVAL. The directory is listed anew for each option, so images added later are served too.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
    /** The preferred block size a client is told (reads of any size and alignment are served). */
    static final int PREFERRED_BLOCK = 4096;
    /** A connection that sends more options than this without choosing an export is dropped. */
    static final int MAX_OPTIONS = 256;
    private static final int TRANSMISSION_FLAGS = Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_READ_ONLY | Nbd.FLAG_SEND_FLUSH
            | Nbd.FLAG_CAN_MULTI_CONN;

    private final Path dir;
    private final ServerSocketChannel listener;
    private final InetSocketAddress bound;
    private final boolean offerGo;
    private final Thread acceptor;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytesServed = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile boolean closed;

    private NbdServer(Path dir, ServerSocketChannel listener, boolean offerGo) {
        this.dir = dir;
        this.listener = listener;
        try {
            this.bound = (InetSocketAddress) listener.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.offerGo = offerGo;
        this.acceptor = new Thread(this::acceptLoop, "nbd-accept-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Serves {@code dir} on 127.0.0.1, on a port the system picks. */
    public static NbdServer start(Path dir) throws IOException {
        return start(dir, new InetSocketAddress("127.0.0.1", 0));
    }

    /** Serves {@code dir} on {@code bind} (port 0: the system picks; {@link #port()} tells which). */
    public static NbdServer start(Path dir, InetSocketAddress bind) throws IOException {
        return start(dir, bind, true);
    }

    /** {@code offerGo} false makes a server of the time before NBD_OPT_GO, for the client's fallback. */
    static NbdServer start(Path dir, InetSocketAddress bind, boolean offerGo) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("image directory " + dir + " does not exist or is not a directory");
        }
        ServerSocketChannel s = ServerSocketChannel.open();
        try {
            s.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            s.bind(bind, 64);
        } catch (IOException e) {
            s.close();
            throw new IOException("NBD server cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        return new NbdServer(dir, s, offerGo);
    }

    /** The port it listens on (the one the system picked, if asked for port 0). */
    public int port() {
        return bound.getPort();
    }

    public String host() {
        return bound.getAddress().getHostAddress();
    }

    public Path directory() {
        return dir;
    }

    /** Bytes of image data sent to clients so far. */
    public long bytesServed() {
        return bytesServed.get();
    }

    /** Transmission requests answered so far. */
    public long requestsServed() {
        return requests.get();
    }

    /** Connections accepted so far. */
    public int connectionsAccepted() {
        return connections.get();
    }

    /** The exports now in the directory, by name. */
    public List<NbdExport> exports() throws IOException {
        List<NbdExport> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (Files.isRegularFile(f) && !name.startsWith(".")
                        && name.getBytes(StandardCharsets.UTF_8).length <= Nbd.MAX_STRING) {
                    out.add(new NbdExport(name, Files.size(f), f));
                }
            }
        }
        out.sort(Comparator.comparing(NbdExport::name));
        return out;
    }

    private Optional<NbdExport> export(String name) throws IOException {
        List<NbdExport> all = exports();
        if (name.isEmpty() && all.size() == 1) {
            return Optional.of(all.get(0));   // the default export, when there is only one
        }
        return all.stream().filter(e -> e.name().equals(name)).findFirst();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("NBD server on port {} stops accepting: {}", port(), e.toString());
                }
                return;
            }
            open.add(ch);
            int n = connections.incrementAndGet();
            Thread t = new Thread(() -> serve(ch), "nbd-conn-" + n);
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 64 * 1024);
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 64 * 1024);
            NbdWire.writeGreeting(out, Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
            out.flush();
            int clientFlags = NbdWire.readClientFlags(in);
            if ((clientFlags & ~(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) != 0) {
                log.debug("NBD client sent unknown flags 0x{}: closing", Integer.toHexString(clientFlags));
                return;
            }
            boolean noZeroes = (clientFlags & Nbd.FLAG_C_NO_ZEROES) != 0;
            NbdExport chosen = negotiate(in, out, noZeroes);
            if (chosen != null) {
                try (FileChannel f = FileChannel.open(chosen.file(), StandardOpenOption.READ)) {
                    transmit(ch, in, out, f, chosen.size());
                }
            }
        } catch (NbdProtocolException.Truncated e) {
            log.debug("NBD client went away: {}", e.getMessage());
        } catch (NbdProtocolException e) {
            log.info("NBD client dropped for breaking the protocol: {}", e.getMessage());
        } catch (ClosedChannelException e) {
            // the server is closing
        } catch (IOException e) {
            if (!closed) {
                log.info("NBD connection ended: {}", e.toString());
            }
        } finally {
            open.remove(ch);
        }
    }

    /** Option haggling; returns the export chosen, or null when the session ends. */
    private NbdExport negotiate(InputStream in, OutputStream out, boolean noZeroes) throws IOException {
        for (int i = 0; i < MAX_OPTIONS; i++) {
            NbdWire.Option o = NbdWire.readOption(in);
            int opt = o.option();
            switch (opt) {
                case Nbd.OPT_EXPORT_NAME -> {
                    String name = NbdWire.utf8(o.data(), "NBD_OPT_EXPORT_NAME export name");
                    Optional<NbdExport> e = export(name);
                    if (e.isEmpty()) {
                        log.info("NBD client asked for unknown export '{}' with NBD_OPT_EXPORT_NAME: closing", name);
                        return null;   // this option cannot be answered with an error
                    }
                    NbdWire.writeExportNameReply(out, new NbdWire.ExportInfo(e.get().size(), TRANSMISSION_FLAGS),
                            noZeroes);
                    out.flush();
                    return e.get();
                }
                case Nbd.OPT_GO, Nbd.OPT_INFO -> {
                    if (!offerGo) {
                        error(out, opt, Nbd.REP_ERR_UNSUP, Nbd.optionName(opt) + " is not supported");
                        continue;
                    }
                    NbdWire.InfoRequest r;
                    try {
                        r = NbdWire.parseInfoRequest(o.data());
                    } catch (NbdProtocolException bad) {
                        error(out, opt, Nbd.REP_ERR_INVALID, bad.getMessage());
                        continue;
                    }
                    Optional<NbdExport> e = export(r.name());
                    if (e.isEmpty()) {
                        error(out, opt, Nbd.REP_ERR_UNKNOWN, "no export named '" + r.name() + "'");
                        continue;
                    }
                    for (int info : r.infos()) {
                        if (info == Nbd.INFO_NAME) {
                            byte[] n = e.get().name().getBytes(StandardCharsets.UTF_8);
                            byte[] d = new byte[2 + n.length];
                            d[1] = Nbd.INFO_NAME;
                            System.arraycopy(n, 0, d, 2, n.length);
                            reply(out, opt, Nbd.REP_INFO, d);
                        }
                    }
                    reply(out, opt, Nbd.REP_INFO,
                            NbdWire.encodeInfoExport(new NbdWire.ExportInfo(e.get().size(), TRANSMISSION_FLAGS)));
                    reply(out, opt, Nbd.REP_INFO,
                            NbdWire.encodeInfoBlockSize(new NbdWire.BlockSize(1, PREFERRED_BLOCK, Nbd.MAX_PAYLOAD)));
                    reply(out, opt, Nbd.REP_ACK, new byte[0]);
                    if (opt == Nbd.OPT_GO) {
                        return e.get();
                    }
                }
                case Nbd.OPT_LIST -> {
                    if (o.data().length != 0) {
                        error(out, opt, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                        continue;
                    }
                    for (NbdExport e : exports()) {
                        NbdWire.writeOptionReply(out, opt, Nbd.REP_SERVER, NbdWire.encodeServer(e.name()));
                    }
                    reply(out, opt, Nbd.REP_ACK, new byte[0]);
                }
                case Nbd.OPT_ABORT -> {
                    reply(out, opt, Nbd.REP_ACK, new byte[0]);
                    return null;
                }
                default -> error(out, opt, Nbd.REP_ERR_UNSUP, Nbd.optionName(opt) + " is not supported");
            }
        }
        log.info("NBD client sent {} options without choosing an export: closing", MAX_OPTIONS);
        return null;
    }

    private static void reply(OutputStream out, int option, int type, byte[] data) throws IOException {
        NbdWire.writeOptionReply(out, option, type, data);
        out.flush();
    }

    private static void error(OutputStream out, int option, int type, String message) throws IOException {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        reply(out, option, type, m.length <= Nbd.MAX_STRING ? m : new byte[0]);
    }

    private void transmit(SocketChannel ch, InputStream in, OutputStream out, FileChannel f, long size)
            throws IOException {
        byte[] scratch = new byte[64 * 1024];
        while (true) {
            NbdWire.Request r;
            try {
                r = NbdWire.readRequest(in);
            } catch (NbdProtocolException.Truncated t) {
                if (t.received() == 0) {
                    return;   // a hard disconnect between requests
                }
                throw t;
            }
            requests.incrementAndGet();
            switch (r.type()) {
                case Nbd.CMD_READ -> {
                    int error = checkRange(r, size);
                    if (error != 0) {
                        simple(out, error, r.handle());
                        continue;
                    }
                    out.write(NbdWire.encodeSimpleReply(new NbdWire.SimpleReply(0, r.handle())));
                    out.flush();
                    long pos = r.offset();
                    long end = r.offset() + r.length();
                    while (pos < end) {
                        long n = f.transferTo(pos, end - pos, ch);
                        if (n <= 0) {
                            throw new IOException("image " + f + " ended at " + pos + " while serving it: it shrank");
                        }
                        pos += n;
                        bytesServed.addAndGet(n);
                    }
                }
                case Nbd.CMD_WRITE -> {
                    if (r.length() > Nbd.MAX_PAYLOAD) {
                        simple(out, Nbd.EINVAL, r.handle());
                        return;   // its payload cannot be skipped safely: a hard disconnect
                    }
                    long left = r.length();
                    while (left > 0) {
                        int n = in.read(scratch, 0, (int) Math.min(scratch.length, left));
                        if (n < 0) {
                            return;
                        }
                        left -= n;
                    }
                    simple(out, Nbd.EPERM, r.handle());
                }
                case Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES -> simple(out, Nbd.EPERM, r.handle());
                case Nbd.CMD_FLUSH -> simple(out, 0, r.handle());
                case Nbd.CMD_CACHE -> simple(out, checkRange(r, size), r.handle());
                case Nbd.CMD_DISC -> {
                    return;
                }
                default -> simple(out, Nbd.EINVAL, r.handle());
            }
        }
    }

    private static int checkRange(NbdWire.Request r, long size) {
        if (r.length() > Nbd.MAX_PAYLOAD || r.offset() < 0 || r.offset() > size || r.length() > size - r.offset()) {
            return Nbd.EINVAL;
        }
        return 0;
    }

    private static void simple(OutputStream out, int error, long handle) throws IOException {
        out.write(NbdWire.encodeSimpleReply(new NbdWire.SimpleReply(error, handle)));
        out.flush();
    }

    /** Stops accepting, drops every connection, and waits for the acceptor to end. */
    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        for (SocketChannel ch : open) {
            ch.close();
        }
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
