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
 * A read-only NBD server (fixed newstyle) for the image files of one directory: each regular file is an export named
 * by its file name. One thread per connection; requests on a connection are answered in order. Writes, trims and
 * zeroing are refused with EPERM, reads past the end or longer than {@link Nbd#MAX_PAYLOAD} with EINVAL. The
 * directory is listed anew for each option, so images added later are served too.
 *
 * <p>A client that negotiates structured replies gets its reads as data and hole chunks (the file's holes, found with
 * {@link SparseFile}, never cross the wire), and may select the {@code base:allocation} metadata context and ask
 * NBD_CMD_BLOCK_STATUS. A client that does not gets simple replies, as the protocol began.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
    /** The preferred block size a client is told (reads of any size and alignment are served). */
    static final int PREFERRED_BLOCK = 4096;
    /** A connection that sends more options than this without choosing an export is dropped. */
    static final int MAX_OPTIONS = 256;
    /** The id of {@code base:allocation} in NBD_REP_META_CONTEXT replies to NBD_OPT_SET_META_CONTEXT. */
    static final int ALLOCATION_CONTEXT_ID = 1;
    /** At most this many descriptors in one block status reply (the client asks again from where it ends). */
    static final int MAX_DESCRIPTORS = 1024;
    /** At most this many content chunks in one structured READ reply; past them the rest goes as one data chunk. */
    static final int MAX_READ_CHUNKS = 256;
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
            Session session = new Session();
            NbdExport chosen = negotiate(in, out, noZeroes, session);
            if (chosen != null) {
                if (session.allocationFor != null && !session.allocationFor.equals(chosen.name())) {
                    session.allocationFor = null;   // selected for another export: not for this one
                }
                try (FileChannel f = FileChannel.open(chosen.file(), StandardOpenOption.READ);
                     SparseFile map = SparseFile.open(chosen.file())) {
                    transmit(ch, in, out, f, map, chosen.size(), session);
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

    /** What a connection negotiated besides its export. */
    private static final class Session {
        /** NBD_OPT_STRUCTURED_REPLY was acknowledged. */
        boolean structured;
        /** The export {@code base:allocation} was last selected for, or null if it is not selected. */
        String allocationFor;
    }

    /** Option haggling; returns the export chosen, or null when the session ends. */
    private NbdExport negotiate(InputStream in, OutputStream out, boolean noZeroes, Session session)
            throws IOException {
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
                case Nbd.OPT_STRUCTURED_REPLY -> {
                    if (o.data().length != 0) {
                        error(out, opt, Nbd.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                        continue;
                    }
                    session.structured = true;
                    reply(out, opt, Nbd.REP_ACK, new byte[0]);
                }
                case Nbd.OPT_SET_META_CONTEXT, Nbd.OPT_LIST_META_CONTEXT -> metaContext(out, opt, o.data(), session);
                default -> error(out, opt, Nbd.REP_ERR_UNSUP, Nbd.optionName(opt) + " is not supported");
            }
        }
        log.info("NBD client sent {} options without choosing an export: closing", MAX_OPTIONS);
        return null;
    }

    /**
     * NBD_OPT_SET_META_CONTEXT selects {@code base:allocation} when asked for by name (a set replaces the selection,
     * even when it fails); NBD_OPT_LIST_META_CONTEXT lists it for no query, {@code base:} or its name. Any other query
     * is ignored, as the protocol asks.
     */
    private void metaContext(OutputStream out, int opt, byte[] data, Session session) throws IOException {
        boolean set = opt == Nbd.OPT_SET_META_CONTEXT;
        if (set) {
            session.allocationFor = null;
        }
        if (!session.structured) {
            error(out, opt, Nbd.REP_ERR_INVALID, Nbd.optionName(opt) + " before NBD_OPT_STRUCTURED_REPLY");
            return;
        }
        NbdWire.MetaContextRequest r;
        try {
            r = NbdWire.parseMetaContextRequest(data);
        } catch (NbdProtocolException bad) {
            error(out, opt, Nbd.REP_ERR_INVALID, bad.getMessage());
            return;
        }
        Optional<NbdExport> e = export(r.name());
        if (e.isEmpty()) {
            error(out, opt, Nbd.REP_ERR_UNKNOWN, "no export named '" + r.name() + "'");
            return;
        }
        boolean allocation = set ? r.queries().contains(Nbd.META_BASE_ALLOCATION)
                : r.queries().isEmpty() || r.queries().contains("base:") || r.queries().contains(Nbd.META_BASE_ALLOCATION);
        if (allocation) {
            NbdWire.writeOptionReply(out, opt, Nbd.REP_META_CONTEXT, NbdWire.encodeMetaContext(
                    new NbdWire.MetaContext(set ? ALLOCATION_CONTEXT_ID : 0, Nbd.META_BASE_ALLOCATION)));
            if (set) {
                session.allocationFor = e.get().name();
            }
        }
        reply(out, opt, Nbd.REP_ACK, new byte[0]);
    }

    private static void reply(OutputStream out, int option, int type, byte[] data) throws IOException {
        NbdWire.writeOptionReply(out, option, type, data);
        out.flush();
    }

    private static void error(OutputStream out, int option, int type, String message) throws IOException {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        reply(out, option, type, m.length <= Nbd.MAX_STRING ? m : new byte[0]);
    }

    private void transmit(SocketChannel ch, InputStream in, OutputStream out, FileChannel f, SparseFile map, long size,
                          Session session) throws IOException {
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
                    if (session.structured) {
                        if (error != 0) {
                            chunkError(out, r.handle(), error, "read of " + r.length() + " bytes at " + r.offset()
                                    + " is outside the export's " + size + " bytes or over " + Nbd.MAX_PAYLOAD);
                        } else {
                            structuredRead(ch, out, f, map, r);
                        }
                        continue;
                    }
                    if (error != 0) {
                        simple(out, error, r.handle());
                        continue;
                    }
                    out.write(NbdWire.encodeSimpleReply(new NbdWire.SimpleReply(0, r.handle())));
                    out.flush();
                    send(ch, f, r.offset(), r.length());
                }
                case Nbd.CMD_BLOCK_STATUS -> blockStatus(out, map, r, size, session);
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

    /** Sends {@code length} bytes of the image from {@code pos} straight from the file to the socket. */
    private void send(SocketChannel ch, FileChannel f, long pos, long length) throws IOException {
        long end = pos + length;
        while (pos < end) {
            long n = f.transferTo(pos, end - pos, ch);
            if (n <= 0) {
                throw new IOException("image " + f + " ended at " + pos + " while serving it: it shrank");
            }
            pos += n;
            bytesServed.addAndGet(n);
        }
    }

    /**
     * A READ as structured chunks in order: data as NBD_REPLY_TYPE_OFFSET_DATA, the file's holes as
     * NBD_REPLY_TYPE_OFFSET_HOLE (a hole of the file reads as zeros); the last chunk carries NBD_REPLY_FLAG_DONE. With
     * NBD_CMD_FLAG_DF, or where the holes cannot be found, one data chunk.
     */
    private void structuredRead(SocketChannel ch, OutputStream out, FileChannel f, SparseFile map, NbdWire.Request r)
            throws IOException {
        if (r.length() == 0) {
            out.write(NbdWire.encodeChunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, r.handle(), 0));
            out.flush();
            return;
        }
        List<NbdExtent> runs = (r.flags() & Nbd.CMD_FLAG_DF) != 0
                ? List.of(new NbdExtent(r.offset(), r.length(), 0))
                : map.map(r.offset(), r.length(), MAX_READ_CHUNKS);
        for (int i = 0; i < runs.size(); i++) {
            NbdExtent e = runs.get(i);
            boolean last = i == runs.size() - 1;
            long length = last ? r.offset() + r.length() - e.offset() : e.length();   // a capped map ends early
            int flags = last ? Nbd.REPLY_FLAG_DONE : 0;
            if (e.zero() && length == e.length()) {
                out.write(NbdWire.encodeChunkHeader(flags, Nbd.REPLY_TYPE_OFFSET_HOLE, r.handle(), 12));
                out.write(NbdWire.encodeHole(new NbdWire.Hole(e.offset(), length)));
            } else {
                out.write(NbdWire.encodeChunkHeader(flags, Nbd.REPLY_TYPE_OFFSET_DATA, r.handle(), 8 + length));
                out.write(java.nio.ByteBuffer.allocate(8).putLong(e.offset()).array());
                out.flush();
                send(ch, f, e.offset(), length);
            }
        }
        out.flush();
    }

    /**
     * NBD_CMD_BLOCK_STATUS for {@code base:allocation}: one chunk of at most {@link #MAX_DESCRIPTORS} descriptors
     * (one with NBD_CMD_FLAG_REQ_ONE), never reaching past the request. Refused with EINVAL when the context was not
     * selected, or for a range outside the export.
     */
    private void blockStatus(OutputStream out, SparseFile map, NbdWire.Request r, long size, Session session)
            throws IOException {
        String refused = session.allocationFor == null ? "NBD_CMD_BLOCK_STATUS without base:allocation selected"
                : r.length() == 0 || r.offset() < 0 || r.offset() > size || r.length() > size - r.offset()
                ? "block status of " + r.length() + " bytes at " + r.offset() + " is outside the export's "
                        + size + " bytes"
                : null;
        if (refused != null) {
            if (session.structured) {
                chunkError(out, r.handle(), Nbd.EINVAL, refused);
            } else {
                simple(out, Nbd.EINVAL, r.handle());
            }
            return;
        }
        int max = (r.flags() & Nbd.CMD_FLAG_REQ_ONE) != 0 ? 1 : MAX_DESCRIPTORS;
        List<NbdWire.Descriptor> d = new ArrayList<>();
        for (NbdExtent e : map.map(r.offset(), r.length(), max)) {
            d.add(new NbdWire.Descriptor(e.length(), e.flags()));
        }
        byte[] payload = NbdWire.encodeBlockStatus(ALLOCATION_CONTEXT_ID, d);
        out.write(NbdWire.encodeChunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_BLOCK_STATUS, r.handle(),
                payload.length));
        out.write(payload);
        out.flush();
    }

    private static void chunkError(OutputStream out, long handle, int error, String message) throws IOException {
        byte[] payload = NbdWire.encodeChunkError(new NbdWire.ChunkError(error, message, -1));
        out.write(NbdWire.encodeChunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_ERROR, handle, payload.length));
        out.write(payload);
        out.flush();
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
