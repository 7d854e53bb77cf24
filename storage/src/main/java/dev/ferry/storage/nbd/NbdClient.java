package dev.ferry.storage.nbd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client of one NBD export (fixed newstyle). It negotiates with NBD_OPT_GO and falls back to NBD_OPT_EXPORT_NAME
 * only when the server answers NBD_REP_ERR_UNSUP. Before that it asks for structured replies and the
 * {@code base:allocation} metadata context (in the same round trip); a server that refuses either is used without
 * them: reads then come as simple replies and {@link #blockStatus} reports everything as data. Reads may be issued
 * from several threads at once: up to {@link #MAX_IN_FLIGHT} requests travel on the one connection, and a reader
 * thread matches the replies (or their chunks, in any order) to them by handle. Any failure of the connection fails
 * every request in flight and every later one; make a new client to reconnect.
 */
public final class NbdClient implements AutoCloseable {
    public static final int MAX_IN_FLIGHT = 16;
    /** Reads longer than this are split into several requests in flight together. */
    static final int MAX_CHUNK = 4 * 1024 * 1024;
    private static final int MAX_OPTION_REPLIES = 64;
    /** One block status request asks about at most this many bytes (its length field has 32 bits). */
    static final long MAX_STATUS_LENGTH = 1L << 31;

    private final String server;
    private final String export;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final long size;
    private final int transmissionFlags;
    private final NbdWire.BlockSize blockSize;
    private final boolean negotiatedWithGo;
    private final boolean structured;
    /** The id the server gave {@code base:allocation}, if it selected it. */
    private final Integer allocationContext;
    private final Duration requestTimeout;
    private final Map<Long, InFlight> pending = new ConcurrentHashMap<>();
    private final AtomicLong handles = new AtomicLong(1);
    private final Semaphore slots = new Semaphore(MAX_IN_FLIGHT);
    private final AtomicLong dataBytes = new AtomicLong();
    private final AtomicLong zeroBytes = new AtomicLong();
    private final Thread reader;
    private volatile IOException failure;
    private volatile boolean closing;

    private record Negotiated(NbdWire.ExportInfo info, NbdWire.BlockSize blockSize, boolean go, boolean structured,
                              Integer allocationContext) {}

    private NbdClient(String server, String export, Socket socket, InputStream in, OutputStream out, Negotiated n,
                      Duration requestTimeout) {
        this.server = server;
        this.export = export;
        this.socket = socket;
        this.in = in;
        this.out = out;
        this.size = n.info().size();
        this.transmissionFlags = n.info().transmissionFlags();
        this.blockSize = n.blockSize();
        this.negotiatedWithGo = n.go();
        this.structured = n.structured();
        this.allocationContext = n.allocationContext();
        this.requestTimeout = requestTimeout;
        this.reader = new Thread(this::readReplies, "nbd-client-" + server + "/" + export);
        reader.setDaemon(true);
        reader.start();
    }

    /** Connects to {@code export} at {@code host:port}, with 10 s to connect and 30 s for each request. */
    public static NbdClient connect(String host, int port, String export) throws IOException {
        return connect(host, port, export, Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    public static NbdClient connect(String host, int port, String export, Duration connectTimeout,
                                    Duration requestTimeout) throws IOException {
        String server = host + ":" + port;
        Socket s = open(host, port, connectTimeout);
        try {
            InputStream in = new BufferedInputStream(s.getInputStream(), 256 * 1024);
            OutputStream out = new BufferedOutputStream(s.getOutputStream(), 64 * 1024);
            int flags = NbdWire.readGreeting(in);
            boolean noZeroes = (flags & Nbd.FLAG_NO_ZEROES) != 0;
            NbdWire.writeClientFlags(out, Nbd.FLAG_C_FIXED_NEWSTYLE | (noZeroes ? Nbd.FLAG_C_NO_ZEROES : 0));
            Negotiated n = negotiate(in, out, server, export, noZeroes);
            s.setSoTimeout(0);
            return new NbdClient(server, export, s, in, out, n, requestTimeout);
        } catch (NbdProtocolException e) {
            s.close();
            throw new NbdProtocolException("NBD server " + server + " export '" + export + "': " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** The export names {@code host:port} lists (NBD_OPT_LIST), then a soft disconnect. */
    public static List<String> list(String host, int port) throws IOException {
        String server = host + ":" + port;
        try (Socket s = open(host, port, Duration.ofSeconds(10))) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = new BufferedOutputStream(s.getOutputStream());
            int flags = NbdWire.readGreeting(in);
            NbdWire.writeClientFlags(out, Nbd.FLAG_C_FIXED_NEWSTYLE | (flags & Nbd.FLAG_NO_ZEROES));
            NbdWire.writeOption(out, Nbd.OPT_LIST, new byte[0]);
            out.flush();
            List<String> names = new ArrayList<>();
            while (true) {
                NbdWire.OptionReply r = NbdWire.readOptionReply(in, Nbd.OPT_LIST);
                if (r.type() == Nbd.REP_ACK) {
                    break;
                } else if (r.type() == Nbd.REP_SERVER) {
                    if (names.size() >= 100_000) {
                        throw new NbdProtocolException("NBD server " + server + " lists more than 100000 exports");
                    }
                    names.add(NbdWire.parseServer(r.data()));
                } else {
                    throw new NbdRefusedException("NBD server " + server + " refused NBD_OPT_LIST: "
                            + Nbd.replyName(r.type()) + suffix(r.message()), r.type());
                }
            }
            NbdWire.writeOption(out, Nbd.OPT_ABORT, new byte[0]);
            out.flush();
            return names;
        }
    }

    private static Socket open(String host, int port, Duration connectTimeout) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout((int) Math.max(1000, connectTimeout.toMillis()));
            s.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
            return s;
        } catch (IOException e) {
            s.close();
            throw new IOException("cannot reach NBD server " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /**
     * Sends NBD_OPT_STRUCTURED_REPLY, NBD_OPT_SET_META_CONTEXT ({@code base:allocation}) and NBD_OPT_GO at once, then
     * reads their replies in order: a server answers options one by one. A refusal of either of the first two only
     * means going without it.
     */
    private static Negotiated negotiate(InputStream in, OutputStream out, String server, String export,
                                        boolean noZeroes) throws IOException {
        NbdWire.writeOption(out, Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
        NbdWire.writeOption(out, Nbd.OPT_SET_META_CONTEXT,
                NbdWire.encodeMetaContextRequest(export, List.of(Nbd.META_BASE_ALLOCATION)));
        NbdWire.writeOption(out, Nbd.OPT_GO, NbdWire.encodeInfoRequest(export, Nbd.INFO_BLOCK_SIZE));
        out.flush();
        NbdWire.OptionReply sr = NbdWire.readOptionReply(in, Nbd.OPT_STRUCTURED_REPLY);
        if (!sr.isError() && sr.type() != Nbd.REP_ACK) {
            throw new NbdProtocolException("unexpected " + Nbd.replyName(sr.type()) + " to NBD_OPT_STRUCTURED_REPLY");
        }
        boolean structured = sr.type() == Nbd.REP_ACK;
        Integer allocation = null;
        for (int i = 0; ; i++) {
            if (i == MAX_OPTION_REPLIES) {
                throw new NbdProtocolException("more than " + MAX_OPTION_REPLIES + " replies to NBD_OPT_SET_META_CONTEXT");
            }
            NbdWire.OptionReply r = NbdWire.readOptionReply(in, Nbd.OPT_SET_META_CONTEXT);
            if (r.type() == Nbd.REP_META_CONTEXT) {
                NbdWire.MetaContext c = NbdWire.parseMetaContext(r.data());
                if (c.name().equals(Nbd.META_BASE_ALLOCATION)) {
                    allocation = c.id();
                }
            } else if (r.type() == Nbd.REP_ACK) {
                break;
            } else if (r.isError()) {
                allocation = null;   // the contexts sent before an error do not count
                break;
            } else {
                throw new NbdProtocolException("unexpected " + Nbd.replyName(r.type()) + " to NBD_OPT_SET_META_CONTEXT");
            }
        }
        if (!structured) {
            allocation = null;
        }
        NbdWire.ExportInfo info = null;
        NbdWire.BlockSize blockSize = null;
        for (int i = 0; i < MAX_OPTION_REPLIES; i++) {
            NbdWire.OptionReply r = NbdWire.readOptionReply(in, Nbd.OPT_GO);
            switch (r.type()) {
                case Nbd.REP_INFO -> {
                    int type = NbdWire.infoType(r.data());
                    if (type == Nbd.INFO_EXPORT) {
                        info = NbdWire.parseInfoExport(r.data());
                    } else if (type == Nbd.INFO_BLOCK_SIZE) {
                        blockSize = NbdWire.parseInfoBlockSize(r.data());
                    }
                }
                case Nbd.REP_ACK -> {
                    if (info == null) {
                        throw new NbdProtocolException("NBD_OPT_GO acknowledged without NBD_INFO_EXPORT");
                    }
                    return new Negotiated(info, blockSize, true, structured, allocation);
                }
                case Nbd.REP_ERR_UNSUP -> {
                    NbdWire.writeOption(out, Nbd.OPT_EXPORT_NAME, export.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    out.flush();
                    try {
                        return new Negotiated(NbdWire.readExportNameReply(in, noZeroes), null, false, structured,
                                allocation);
                    } catch (NbdProtocolException.Truncated t) {
                        if (t.received() == 0) {
                            throw new NbdRefusedException("NBD server " + server + " has no export '" + export
                                    + "' (it closed the connection on NBD_OPT_EXPORT_NAME)", Nbd.REP_ERR_UNKNOWN);
                        }
                        throw t;
                    }
                }
                default -> {
                    if (!r.isError()) {
                        throw new NbdProtocolException("unexpected " + Nbd.replyName(r.type()) + " to NBD_OPT_GO");
                    }
                    String why = r.type() == Nbd.REP_ERR_UNKNOWN ? "has no export '" + export + "'"
                            : "refused export '" + export + "'";
                    throw new NbdRefusedException("NBD server " + server + " " + why + ": " + Nbd.replyName(r.type())
                            + suffix(r.message()), r.type());
                }
            }
        }
        throw new NbdProtocolException("more than " + MAX_OPTION_REPLIES + " replies to NBD_OPT_GO");
    }

    private static String suffix(String message) {
        return message.isEmpty() ? "" : " (" + message + ")";
    }

    public long size() {
        return size;
    }

    public String export() {
        return export;
    }

    /** {@code host:port}. */
    public String server() {
        return server;
    }

    public int transmissionFlags() {
        return transmissionFlags;
    }

    public boolean readOnly() {
        return (transmissionFlags & Nbd.FLAG_READ_ONLY) != 0;
    }

    /** Whether the export was chosen with NBD_OPT_GO (false: the NBD_OPT_EXPORT_NAME fallback). */
    public boolean negotiatedWithGo() {
        return negotiatedWithGo;
    }

    /** Whether the server acknowledged NBD_OPT_STRUCTURED_REPLY (reads then come in chunks). */
    public boolean structuredReplies() {
        return structured;
    }

    /** Whether the server selected {@code base:allocation}, so {@link #blockStatus} asks it. */
    public boolean supportsBlockStatus() {
        return allocationContext != null;
    }

    /** Bytes of image data received so far (READ payloads; zeros the server sent as holes are not counted). */
    public long dataBytesReceived() {
        return dataBytes.get();
    }

    /** Bytes of reads the server answered as holes (zeros that did not cross the wire). */
    public long zeroBytesReceived() {
        return zeroBytes.get();
    }

    /** The server's block sizes, if it sent them. */
    public NbdWire.BlockSize blockSize() {
        return blockSize;
    }

    /** Whether the connection still works. */
    public boolean isOpen() {
        return failure == null && !closing;
    }

    /**
     * Fills {@code dst} (position to limit) with the export's bytes from {@code offset}; long reads go as several
     * requests in flight together. On return {@code dst}'s position is its limit.
     */
    public void read(long offset, ByteBuffer dst) throws IOException {
        read(offset, dst, null);
    }

    /**
     * As {@link #read(long, ByteBuffer)}, but the parts the server answers as holes are reported to {@code holes}
     * (index from {@code dst}'s position) and left as they were in {@code dst}, not zero-filled.
     */
    public void read(long offset, ByteBuffer dst, HoleSink holes) throws IOException {
        int length = dst.remaining();
        checkRange(offset, length);
        int chunk = blockSize != null ? Math.min(MAX_CHUNK, Math.max(blockSize.minimum(), blockSize.maximum())) : MAX_CHUNK;
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        int start = dst.position();
        for (int done = 0; done < length; done += chunk) {
            int n = Math.min(chunk, length - done);
            ByteBuffer part = dst.duplicate();
            part.position(start + done).limit(start + done + n);
            int base = done;
            parts.add(readAsync(offset + done, part.slice(), holes == null ? null : (at, len) -> holes.hole(base + at, len)));
        }
        for (CompletableFuture<Void> p : parts) {
            await(p, "READ at " + offset + " of " + length + " bytes");
        }
        dst.position(dst.limit());
    }

    /**
     * Sends one READ of {@code dst.remaining()} bytes (at most {@link Nbd#MAX_PAYLOAD}) and returns at once; the
     * future completes once the data is in {@code dst}. Waits for a free slot when {@link #MAX_IN_FLIGHT} are out.
     */
    public CompletableFuture<Void> readAsync(long offset, ByteBuffer dst) throws IOException {
        return readAsync(offset, dst, null);
    }

    /** As {@link #readAsync(long, ByteBuffer)}, holes reported to {@code holes} (if not null) rather than filled. */
    public CompletableFuture<Void> readAsync(long offset, ByteBuffer dst, HoleSink holes) throws IOException {
        int length = dst.remaining();
        checkRange(offset, length);
        if (length > Nbd.MAX_PAYLOAD) {
            throw new IllegalArgumentException("one NBD read is at most " + Nbd.MAX_PAYLOAD + " bytes, not " + length);
        }
        return send(Nbd.CMD_READ, offset, length, dst, holes).done;
    }

    /**
     * The {@code base:allocation} status of {@code [offset, offset + length)}: extents in order from {@code offset},
     * none reaching past the range, covering at least its first byte (ask again from where they end for the rest).
     * A server without the context is not asked: the whole range is reported as one extent of status 0 (data), which
     * is always true.
     */
    public List<NbdExtent> blockStatus(long offset, long length) throws IOException {
        checkRange(offset, length);
        if (length == 0) {
            return List.of();
        }
        if (allocationContext == null) {
            return List.of(new NbdExtent(offset, length, 0));
        }
        InFlight f = send(Nbd.CMD_BLOCK_STATUS, offset, Math.min(length, MAX_STATUS_LENGTH), null);
        await(f.done, f.describe());
        return List.copyOf(f.extents());
    }

    /** NBD_CMD_FLUSH (a read-only export answers it at once). */
    public void flush() throws IOException {
        await(send(Nbd.CMD_FLUSH, 0, 0, null).done, "FLUSH");
    }

    private void checkRange(long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw new NbdCommandException("NBD server " + server + " export '" + export + "' (" + size
                    + " bytes): range of " + length + " bytes at " + offset + " is out of range", Nbd.EINVAL);
        }
    }

    private InFlight send(int type, long offset, long length, ByteBuffer dst) throws IOException {
        return send(type, offset, length, dst, null);
    }

    private InFlight send(int type, long offset, long length, ByteBuffer dst, HoleSink holes) throws IOException {
        checkOpen();
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting to send to NBD server " + server);
        }
        long handle = handles.getAndIncrement();
        InFlight p = new InFlight(type, offset, length, dst, holes);
        p.done.whenComplete((v, e) -> slots.release());
        pending.put(handle, p);
        try {
            checkOpen();
        } catch (IOException e) {
            pending.remove(handle);
            p.done.completeExceptionally(e);
            throw e;
        }
        try {
            synchronized (out) {
                NbdWire.writeRequest(out, new NbdWire.Request(0, type, handle, offset, length));
                out.flush();
            }
        } catch (IOException e) {
            fail(new IOException("NBD server " + server + " export '" + export + "': sending a request failed: "
                    + e.getMessage(), e));
        }
        return p;
    }

    private void await(CompletableFuture<Void> f, String what) throws IOException {
        try {
            f.get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            IOException failure = new IOException("NBD server " + server + " export '" + export + "': no reply to "
                    + what + " within " + requestTimeout.toMillis() + " ms");
            fail(failure);
            throw failure;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting for NBD server " + server);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NbdCommandException c) {
                throw new NbdCommandException("NBD server " + server + " export '" + export + "': " + what, c.error(),
                        c.serverMessage());
            }
            if (e.getCause() instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException("NBD server " + server + " export '" + export + "': " + e.getCause(), e.getCause());
        }
    }

    private void checkOpen() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException(f.getMessage(), f);
        }
        if (closing) {
            throw new IOException("NBD client of " + server + " export '" + export + "' is closed");
        }
    }

    private void readReplies() {
        byte[] scratch = new byte[64 * 1024];
        try {
            while (true) {
                NbdWire.Reply reply;
                try {
                    reply = NbdWire.readReply(in, structured);
                } catch (NbdProtocolException.Truncated t) {
                    if (t.received() == 0 && (closing || pending.isEmpty())) {
                        throw new IOException("NBD server " + server + " closed the connection");
                    }
                    throw t;
                }
                InFlight p = pending.get(reply.handle());
                if (p == null) {
                    throw new NbdProtocolException("reply with handle " + reply.handle() + ", which no request has");
                }
                if (reply instanceof NbdWire.SimpleReply r) {
                    simpleReply(r, p, scratch);
                } else {
                    chunk((NbdWire.Chunk) reply, p, scratch);
                }
            }
        } catch (IOException e) {
            fail(closing ? new IOException("NBD client of " + server + " export '" + export + "' is closed")
                    : new IOException("NBD server " + server + " export '" + export + "': connection lost: "
                    + e.getMessage(), e));
        }
    }

    private void simpleReply(NbdWire.SimpleReply r, InFlight p, byte[] scratch) throws IOException {
        if (r.error() == 0 && p.type == Nbd.CMD_BLOCK_STATUS) {
            throw new NbdProtocolException("a simple reply without error to " + p.describe());
        }
        pending.remove(r.handle());
        if (r.error() != 0) {
            p.done.completeExceptionally(new NbdCommandException(p.describe(), r.error()));
            return;
        }
        if (p.type == Nbd.CMD_READ) {
            readInto(p.dst, 0, p.dst.remaining(), scratch);
            p.dst.position(p.dst.limit());
            dataBytes.addAndGet(p.length);
        }
        p.done.complete(null);
    }

    /**
     * One chunk of a structured reply to {@code p}. Its length is checked against what its type allows before its
     * payload is read; a type the client does not know ends the connection, unless it is an error.
     */
    private void chunk(NbdWire.Chunk c, InFlight p, byte[] scratch) throws IOException {
        String what = Nbd.chunkName(c.type());
        switch (c.type()) {
            case Nbd.REPLY_TYPE_NONE -> {
                if (c.length() != 0 || !c.done()) {
                    throw new NbdProtocolException(what + " of length " + c.length() + (c.done() ? "" : " not last"));
                }
            }
            case Nbd.REPLY_TYPE_OFFSET_DATA -> {
                if (c.length() < 9) {
                    throw new NbdProtocolException(what + " of length " + c.length() + ", less than 9");
                }
                long at = NbdWire.readChunkOffset(in);
                long n = c.length() - 8;
                int into = p.content(at, n, what);
                readInto(p.dst, into, (int) n, scratch);
                dataBytes.addAndGet(n);
            }
            case Nbd.REPLY_TYPE_OFFSET_HOLE -> {
                NbdWire.Hole h = NbdWire.parseHole(NbdWire.readChunkPayload(in, c, 12));
                int into = p.content(h.offset(), h.length(), what);
                if (p.holes != null) {
                    p.holes.hole(into, (int) h.length());
                } else {
                    zeroFill(p.dst, into, (int) h.length());
                }
                zeroBytes.addAndGet(h.length());
            }
            case Nbd.REPLY_TYPE_BLOCK_STATUS -> {
                NbdWire.BlockStatus b = NbdWire.readBlockStatus(in, c.length(), Nbd.MAX_EXTENTS_KEPT);
                if (allocationContext != null && b.contextId() == allocationContext) {
                    p.status(b);
                }
            }
            default -> {
                if (!c.isError()) {
                    throw new NbdProtocolException("unknown structured reply " + what + " to " + p.describe());
                }
                p.error(NbdWire.parseChunkError(c.type(), NbdWire.readChunkPayload(in, c, Nbd.MAX_ERROR_CHUNK)));
            }
        }
        if (c.done()) {
            p.finish();   // a reply that is not whole throws while p is pending, so the failure reaches it
            pending.remove(c.handle());
        }
    }

    /** Reads {@code n} bytes of the connection into {@code dst} at index {@code at} (its position unchanged). */
    private void readInto(ByteBuffer dst, int at, int n, byte[] scratch) throws IOException {
        if (dst.hasArray()) {
            int got = in.readNBytes(dst.array(), dst.arrayOffset() + dst.position() + at, n);
            if (got < n) {
                throw new NbdProtocolException.Truncated("NBD READ data", got, n);
            }
            return;
        }
        int base = dst.position() + at;
        for (int done = 0; done < n; ) {
            int want = Math.min(scratch.length, n - done);
            int got = in.readNBytes(scratch, 0, want);
            if (got < want) {
                throw new NbdProtocolException.Truncated("NBD READ data", done + got, n);
            }
            dst.put(base + done, scratch, 0, got);
            done += got;
        }
    }

    private static void zeroFill(ByteBuffer dst, int at, int n) {
        int base = dst.position() + at;
        if (dst.hasArray()) {
            java.util.Arrays.fill(dst.array(), dst.arrayOffset() + base, dst.arrayOffset() + base + n, (byte) 0);
            return;
        }
        for (int i = 0; i < n; i++) {
            dst.put(base + i, (byte) 0);
        }
    }

    private void fail(IOException e) {
        synchronized (pending) {
            if (failure == null) {
                failure = e;
            }
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // already failed
        }
        for (Long h : List.copyOf(pending.keySet())) {
            InFlight p = pending.remove(h);
            if (p != null) {
                p.done.completeExceptionally(failure);
            }
        }
    }

    /** Waits for requests in flight, sends NBD_CMD_DISC and closes the connection. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        long deadline = System.currentTimeMillis() + 5000;
        while (!pending.isEmpty() && failure == null && System.currentTimeMillis() < deadline) {
            Thread.onSpinWait();
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        closing = true;
        if (failure == null) {
            try {
                synchronized (out) {
                    NbdWire.writeRequest(out, new NbdWire.Request(0, Nbd.CMD_DISC, handles.getAndIncrement(), 0, 0));
                    out.flush();
                }
                socket.shutdownOutput();
            } catch (IOException ignored) {
                // the connection is going away regardless
            }
        }
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        fail(new IOException("NBD client of " + server + " export '" + export + "' is closed"));
    }
}
