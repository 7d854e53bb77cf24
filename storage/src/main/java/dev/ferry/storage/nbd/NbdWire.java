package dev.ferry.storage.nbd;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encoders and decoders of every NBD message Ferry sends or receives. A decoder reads a fixed-size header, checks its
 * magic and caps each length field before allocating anything for the data that follows, so a hostile peer can make
 * it throw {@link NbdProtocolException} but neither allocate more than {@link Nbd#MAX_OPTION_LENGTH} (options) nor
 * wait for more bytes than a length it has already accepted.
 */
public final class NbdWire {
    private NbdWire() {}

    /** An option the client sent: its number and data. */
    public record Option(int option, byte[] data) {}

    /** A fixed-newstyle reply to an option. */
    public record OptionReply(int option, int type, byte[] data) {
        public boolean isError() {
            return (type & Nbd.REP_FLAG_ERROR) != 0;
        }

        /** The human-readable text an error reply may carry (empty if none or not UTF-8). */
        public String message() {
            try {
                return isError() ? utf8(data, "option reply message") : "";
            } catch (NbdProtocolException e) {
                return "";
            }
        }
    }

    /** NBD_OPT_GO / NBD_OPT_INFO data: the export name and the info types asked for. */
    public record InfoRequest(String name, int[] infos) {}

    /** What NBD_INFO_EXPORT (or the NBD_OPT_EXPORT_NAME reply) says of an export. */
    public record ExportInfo(long size, int transmissionFlags) {
        public boolean readOnly() {
            return (transmissionFlags & Nbd.FLAG_READ_ONLY) != 0;
        }
    }

    /** NBD_INFO_BLOCK_SIZE. */
    public record BlockSize(int minimum, int preferred, int maximum) {}

    /** A transmission request header (the WRITE payload follows it on the wire). Length is unsigned 32 bits. */
    public record Request(int flags, int type, long handle, long offset, long length) {}

    /** What a reply starts with: a simple reply header, or the header of one chunk of a structured reply. */
    public sealed interface Reply permits SimpleReply, Chunk {
        long handle();
    }

    /** A simple reply header (READ data follows it on the wire when error is 0). */
    public record SimpleReply(int error, long handle) implements Reply {}

    /** A structured reply chunk header; {@code length} bytes of payload follow it (at most {@link Nbd#MAX_CHUNK_LENGTH}). */
    public record Chunk(int flags, int type, long handle, long length) implements Reply {
        /** Whether this is the last chunk of its reply. */
        public boolean done() {
            return (flags & Nbd.REPLY_FLAG_DONE) != 0;
        }

        public boolean isError() {
            return (type & Nbd.REPLY_TYPE_FLAG_ERROR) != 0;
        }
    }

    /** An error chunk: the error, its message (may be empty), and for NBD_REPLY_TYPE_ERROR_OFFSET the offset (else -1). */
    public record ChunkError(int error, String message, long offset) {}

    /** An NBD_REPLY_TYPE_OFFSET_HOLE payload: {@code length} bytes from {@code offset} read as zeros. */
    public record Hole(long offset, long length) {}

    /** One NBD_REPLY_TYPE_BLOCK_STATUS descriptor. */
    public record Descriptor(long length, int flags) {}

    /** An NBD_REPLY_TYPE_BLOCK_STATUS payload: the context, and the descriptors kept of those it had. */
    public record BlockStatus(int contextId, List<Descriptor> descriptors, long sent) {}

    /** NBD_OPT_SET_META_CONTEXT / NBD_OPT_LIST_META_CONTEXT data: the export name and the queries. */
    public record MetaContextRequest(String name, List<String> queries) {}

    /** An NBD_REP_META_CONTEXT payload. */
    public record MetaContext(int id, String name) {}

    // ---- handshake ----

    public static void writeGreeting(OutputStream out, int handshakeFlags) throws IOException {
        out.write(ByteBuffer.allocate(18).putLong(Nbd.INIT_MAGIC).putLong(Nbd.OPTS_MAGIC)
                .putShort((short) handshakeFlags).array());
    }

    /** Reads the server's greeting; returns its handshake flags. Refuses oldstyle and non-fixed newstyle servers. */
    public static int readGreeting(InputStream in) throws IOException {
        ByteBuffer b = header(in, 16, "NBD server greeting");
        long magic = b.getLong();
        if (magic != Nbd.INIT_MAGIC) {
            throw new NbdProtocolException("NBD server greeting: magic 0x" + Long.toHexString(magic)
                    + " is not NBDMAGIC (not an NBD server?)");
        }
        long opts = b.getLong();
        if (opts != Nbd.OPTS_MAGIC) {
            throw new NbdProtocolException("NBD server greeting: second magic 0x" + Long.toHexString(opts)
                    + " is not IHAVEOPT (an oldstyle server, which Ferry does not speak)");
        }
        int flags = Short.toUnsignedInt(header(in, 2, "NBD server handshake flags").getShort());
        if ((flags & Nbd.FLAG_FIXED_NEWSTYLE) == 0) {
            throw new NbdProtocolException("NBD server greeting: the server does not offer fixed newstyle negotiation");
        }
        return flags;
    }

    public static void writeClientFlags(OutputStream out, int clientFlags) throws IOException {
        out.write(ByteBuffer.allocate(4).putInt(clientFlags).array());
    }

    public static int readClientFlags(InputStream in) throws IOException {
        return header(in, 4, "NBD client flags").getInt();
    }

    // ---- options ----

    public static void writeOption(OutputStream out, int option, byte[] data) throws IOException {
        out.write(ByteBuffer.allocate(Nbd.OPTION_HEADER + data.length).putLong(Nbd.OPTS_MAGIC).putInt(option)
                .putInt(data.length).put(data).array());
    }

    /** Reads one option; its data may be at most {@link Nbd#MAX_OPTION_LENGTH} bytes. */
    public static Option readOption(InputStream in) throws IOException {
        ByteBuffer b = header(in, Nbd.OPTION_HEADER, "NBD option header");
        long magic = b.getLong();
        if (magic != Nbd.OPTS_MAGIC) {
            throw new NbdProtocolException("NBD option header: magic 0x" + Long.toHexString(magic) + " is not IHAVEOPT");
        }
        int option = b.getInt();
        long length = Integer.toUnsignedLong(b.getInt());
        if (length > Nbd.MAX_OPTION_LENGTH) {
            throw new NbdProtocolException("NBD option " + Nbd.optionName(option) + ": data length " + length
                    + " exceeds the " + Nbd.MAX_OPTION_LENGTH + "-byte limit");
        }
        return new Option(option, body(in, (int) length, "NBD option " + Nbd.optionName(option) + " data"));
    }

    public static void writeOptionReply(OutputStream out, int option, int type, byte[] data) throws IOException {
        out.write(ByteBuffer.allocate(20 + data.length).putLong(Nbd.OPTION_REPLY_MAGIC).putInt(option).putInt(type)
                .putInt(data.length).put(data).array());
    }

    /** Reads one option reply to {@code option}; its data may be at most {@link Nbd#MAX_OPTION_LENGTH} bytes. */
    public static OptionReply readOptionReply(InputStream in, int option) throws IOException {
        ByteBuffer b = header(in, 20, "NBD option reply header");
        long magic = b.getLong();
        if (magic != Nbd.OPTION_REPLY_MAGIC) {
            throw new NbdProtocolException("NBD option reply header: magic 0x" + Long.toHexString(magic)
                    + " is not the option reply magic");
        }
        int replyTo = b.getInt();
        int type = b.getInt();
        long length = Integer.toUnsignedLong(b.getInt());
        if (replyTo != option) {
            throw new NbdProtocolException("NBD option reply: answers " + Nbd.optionName(replyTo) + ", not "
                    + Nbd.optionName(option));
        }
        if (length > Nbd.MAX_OPTION_LENGTH) {
            throw new NbdProtocolException("NBD option reply " + Nbd.replyName(type) + ": data length " + length
                    + " exceeds the " + Nbd.MAX_OPTION_LENGTH + "-byte limit");
        }
        return new OptionReply(replyTo, type, body(in, (int) length, "NBD option reply " + Nbd.replyName(type) + " data"));
    }

    public static byte[] encodeInfoRequest(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length).putInt(n.length).put(n)
                .putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    /** Parses the data of NBD_OPT_GO or NBD_OPT_INFO. */
    public static InfoRequest parseInfoRequest(byte[] data) throws NbdProtocolException {
        ByteBuffer b = ByteBuffer.wrap(data);
        String what = "NBD_OPT_GO/INFO data";
        need(b, 4, what);
        long nameLength = Integer.toUnsignedLong(b.getInt());
        if (nameLength > Nbd.MAX_STRING) {
            throw new NbdProtocolException(what + ": export name length " + nameLength + " exceeds "
                    + Nbd.MAX_STRING + " bytes");
        }
        need(b, (int) nameLength + 2, what);
        byte[] name = new byte[(int) nameLength];
        b.get(name);
        int count = Short.toUnsignedInt(b.getShort());
        if (count > Nbd.MAX_INFO_REQUESTS) {
            throw new NbdProtocolException(what + ": " + count + " info requests, more than "
                    + Nbd.MAX_INFO_REQUESTS);
        }
        if (b.remaining() != 2 * count) {
            throw new NbdProtocolException(what + ": " + count + " info requests need " + 2 * count
                    + " bytes, " + b.remaining() + " remain");
        }
        int[] infos = new int[count];
        for (int i = 0; i < count; i++) {
            infos[i] = Short.toUnsignedInt(b.getShort());
        }
        return new InfoRequest(utf8(name, what + " export name"), infos);
    }

    public static byte[] encodeInfoExport(ExportInfo info) {
        return ByteBuffer.allocate(12).putShort((short) Nbd.INFO_EXPORT).putLong(info.size())
                .putShort((short) info.transmissionFlags()).array();
    }

    public static byte[] encodeInfoBlockSize(BlockSize s) {
        return ByteBuffer.allocate(14).putShort((short) Nbd.INFO_BLOCK_SIZE).putInt(s.minimum())
                .putInt(s.preferred()).putInt(s.maximum()).array();
    }

    /** The info type of an NBD_REP_INFO payload. */
    public static int infoType(byte[] data) throws NbdProtocolException {
        if (data.length < 2) {
            throw new NbdProtocolException("NBD_REP_INFO: " + data.length + " bytes, too short for an info type");
        }
        return ((data[0] & 0xff) << 8) | (data[1] & 0xff);
    }

    public static ExportInfo parseInfoExport(byte[] data) throws NbdProtocolException {
        if (data.length != 12 || infoType(data) != Nbd.INFO_EXPORT) {
            throw new NbdProtocolException("NBD_INFO_EXPORT: " + data.length + " bytes, expected 12");
        }
        ByteBuffer b = ByteBuffer.wrap(data, 2, 10);
        long size = b.getLong();
        if (size < 0) {
            throw new NbdProtocolException("NBD_INFO_EXPORT: export size " + Long.toUnsignedString(size)
                    + " is beyond 2^63 bytes");
        }
        return new ExportInfo(size, Short.toUnsignedInt(b.getShort()));
    }

    public static BlockSize parseInfoBlockSize(byte[] data) throws NbdProtocolException {
        if (data.length != 14 || infoType(data) != Nbd.INFO_BLOCK_SIZE) {
            throw new NbdProtocolException("NBD_INFO_BLOCK_SIZE: " + data.length + " bytes, expected 14");
        }
        ByteBuffer b = ByteBuffer.wrap(data, 2, 12);
        BlockSize s = new BlockSize(b.getInt(), b.getInt(), b.getInt());
        if (s.minimum() <= 0 || Integer.bitCount(s.minimum()) != 1 || s.minimum() > 65536
                || s.preferred() < s.minimum() || s.maximum() < s.minimum()) {
            throw new NbdProtocolException("NBD_INFO_BLOCK_SIZE: sizes min " + Integer.toUnsignedString(s.minimum())
                    + " preferred " + Integer.toUnsignedString(s.preferred()) + " max "
                    + Integer.toUnsignedString(s.maximum()) + " are inconsistent");
        }
        return s;
    }

    public static byte[] encodeServer(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + n.length).putInt(n.length).put(n).array();
    }

    /** The export name in an NBD_REP_SERVER payload (a description may follow it; it is ignored). */
    public static String parseServer(byte[] data) throws NbdProtocolException {
        if (data.length < 4) {
            throw new NbdProtocolException("NBD_REP_SERVER: " + data.length + " bytes, too short for a name length");
        }
        long length = Integer.toUnsignedLong(ByteBuffer.wrap(data).getInt());
        if (length > data.length - 4L || length > Nbd.MAX_STRING) {
            throw new NbdProtocolException("NBD_REP_SERVER: name length " + length + " does not fit the "
                    + (data.length - 4) + " bytes that follow it");
        }
        byte[] name = new byte[(int) length];
        System.arraycopy(data, 4, name, 0, name.length);
        return utf8(name, "NBD_REP_SERVER export name");
    }

    public static void writeExportNameReply(OutputStream out, ExportInfo info, boolean noZeroes) throws IOException {
        out.write(ByteBuffer.allocate(noZeroes ? 10 : 134).putLong(info.size())
                .putShort((short) info.transmissionFlags()).array());
    }

    public static ExportInfo readExportNameReply(InputStream in, boolean noZeroes) throws IOException {
        ByteBuffer b = header(in, noZeroes ? 10 : 134, "NBD_OPT_EXPORT_NAME reply");
        long size = b.getLong();
        if (size < 0) {
            throw new NbdProtocolException("NBD_OPT_EXPORT_NAME reply: export size " + Long.toUnsignedString(size)
                    + " is beyond 2^63 bytes");
        }
        return new ExportInfo(size, Short.toUnsignedInt(b.getShort()));
    }

    // ---- transmission ----

    public static void writeRequest(OutputStream out, Request r) throws IOException {
        out.write(encodeRequest(r));
    }

    public static byte[] encodeRequest(Request r) {
        return ByteBuffer.allocate(Nbd.REQUEST_HEADER).putInt(Nbd.REQUEST_MAGIC).putShort((short) r.flags())
                .putShort((short) r.type()).putLong(r.handle()).putLong(r.offset()).putInt((int) r.length()).array();
    }

    /** Reads a request header; the caller decides what to do with a WRITE payload of {@code length} bytes. */
    public static Request readRequest(InputStream in) throws IOException {
        ByteBuffer b = header(in, Nbd.REQUEST_HEADER, "NBD request header");
        int magic = b.getInt();
        if (magic != Nbd.REQUEST_MAGIC) {
            throw new NbdProtocolException("NBD request header: magic 0x" + Integer.toHexString(magic)
                    + " is not the request magic");
        }
        return new Request(Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()), b.getLong(),
                b.getLong(), Integer.toUnsignedLong(b.getInt()));
    }

    public static byte[] encodeSimpleReply(SimpleReply r) {
        return ByteBuffer.allocate(Nbd.SIMPLE_REPLY_HEADER).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(r.error())
                .putLong(r.handle()).array();
    }

    public static SimpleReply readSimpleReply(InputStream in) throws IOException {
        return decodeSimpleReply(header(in, Nbd.SIMPLE_REPLY_HEADER, "NBD reply header"));
    }

    public static SimpleReply decodeSimpleReply(ByteBuffer b) throws NbdProtocolException {
        int magic = b.getInt();
        if (magic == Nbd.STRUCTURED_REPLY_MAGIC) {
            throw new NbdProtocolException("NBD reply header: a structured reply, which was never negotiated");
        }
        if (magic != Nbd.SIMPLE_REPLY_MAGIC) {
            throw new NbdProtocolException("NBD reply header: magic 0x" + Integer.toHexString(magic)
                    + " is not the simple reply magic");
        }
        return new SimpleReply(b.getInt(), b.getLong());
    }

    /**
     * Reads a reply header: a simple reply, or (only when {@code structured} was negotiated) a chunk header whose length
     * is at most {@link Nbd#MAX_CHUNK_LENGTH}. The caller checks the length against what the chunk type allows before
     * reading the payload.
     */
    public static Reply readReply(InputStream in, boolean structured) throws IOException {
        int magic = header(in, 4, "NBD reply header").getInt();
        if (magic == Nbd.SIMPLE_REPLY_MAGIC) {
            ByteBuffer b = header(in, Nbd.SIMPLE_REPLY_HEADER - 4, "NBD simple reply header");
            return new SimpleReply(b.getInt(), b.getLong());
        }
        if (magic != Nbd.STRUCTURED_REPLY_MAGIC) {
            throw new NbdProtocolException("NBD reply header: magic 0x" + Integer.toHexString(magic)
                    + " is neither the simple nor the structured reply magic");
        }
        if (!structured) {
            throw new NbdProtocolException("NBD reply header: a structured reply, which was never negotiated");
        }
        ByteBuffer b = header(in, Nbd.CHUNK_HEADER - 4, "NBD structured reply chunk header");
        Chunk c = new Chunk(Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()), b.getLong(),
                Integer.toUnsignedLong(b.getInt()));
        if (c.length() > Nbd.MAX_CHUNK_LENGTH) {
            throw new NbdProtocolException("NBD " + Nbd.chunkName(c.type()) + " chunk: length " + c.length()
                    + " exceeds the " + Nbd.MAX_CHUNK_LENGTH + "-byte limit");
        }
        return c;
    }

    public static byte[] encodeChunkHeader(int flags, int type, long handle, long length) {
        return ByteBuffer.allocate(Nbd.CHUNK_HEADER).putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) flags)
                .putShort((short) type).putLong(handle).putInt((int) length).array();
    }

    /** The offset that starts an NBD_REPLY_TYPE_OFFSET_DATA payload (its data follows). */
    public static long readChunkOffset(InputStream in) throws IOException {
        long offset = header(in, 8, "NBD_REPLY_TYPE_OFFSET_DATA offset").getLong();
        if (offset < 0) {
            throw new NbdProtocolException("NBD_REPLY_TYPE_OFFSET_DATA: offset " + Long.toUnsignedString(offset)
                    + " is beyond 2^63 bytes");
        }
        return offset;
    }

    /** Reads the whole payload of a chunk whose length the caller has capped. */
    public static byte[] readChunkPayload(InputStream in, Chunk c, long cap) throws IOException {
        if (c.length() > cap) {
            throw new NbdProtocolException("NBD " + Nbd.chunkName(c.type()) + " chunk: length " + c.length()
                    + " exceeds the " + cap + "-byte limit");
        }
        return body(in, (int) c.length(), "NBD " + Nbd.chunkName(c.type()) + " payload");
    }

    public static byte[] encodeHole(Hole h) {
        return ByteBuffer.allocate(12).putLong(h.offset()).putInt((int) h.length()).array();
    }

    public static Hole parseHole(byte[] data) throws NbdProtocolException {
        if (data.length != 12) {
            throw new NbdProtocolException("NBD_REPLY_TYPE_OFFSET_HOLE: " + data.length + " bytes, expected 12");
        }
        ByteBuffer b = ByteBuffer.wrap(data);
        long offset = b.getLong();
        long length = Integer.toUnsignedLong(b.getInt());
        if (offset < 0 || length == 0) {
            throw new NbdProtocolException("NBD_REPLY_TYPE_OFFSET_HOLE: a hole of " + length + " bytes at "
                    + Long.toUnsignedString(offset));
        }
        return new Hole(offset, length);
    }

    /** An error chunk's payload: NBD_REPLY_TYPE_ERROR_OFFSET when {@code e.offset()} is not negative. */
    public static byte[] encodeChunkError(ChunkError e) {
        byte[] m = e.message().getBytes(StandardCharsets.UTF_8);
        if (m.length > Nbd.MAX_STRING) {
            m = new byte[0];
        }
        ByteBuffer b = ByteBuffer.allocate(6 + m.length + (e.offset() >= 0 ? 8 : 0)).putInt(e.error())
                .putShort((short) m.length).put(m);
        if (e.offset() >= 0) {
            b.putLong(e.offset());
        }
        return b.array();
    }

    /**
     * The payload of an error chunk of {@code type}: NBD_REPLY_TYPE_ERROR_OFFSET ends in an offset; any other error
     * type (bit 15 set) is read as NBD_REPLY_TYPE_ERROR with whatever follows the message ignored.
     */
    public static ChunkError parseChunkError(int type, byte[] data) throws NbdProtocolException {
        String what = Nbd.chunkName(type);
        int fixed = type == Nbd.REPLY_TYPE_ERROR_OFFSET ? 14 : 6;
        if (data.length < fixed || data.length > Nbd.MAX_ERROR_CHUNK) {
            throw new NbdProtocolException(what + ": " + data.length + " bytes, expected " + fixed + " to "
                    + Nbd.MAX_ERROR_CHUNK);
        }
        ByteBuffer b = ByteBuffer.wrap(data);
        int error = b.getInt();
        int messageLength = Short.toUnsignedInt(b.getShort());
        if (error == 0) {
            throw new NbdProtocolException(what + ": error 0");
        }
        if (messageLength > data.length - fixed) {
            throw new NbdProtocolException(what + ": message length " + messageLength + " does not fit the "
                    + (data.length - fixed) + " bytes for it");
        }
        byte[] m = new byte[messageLength];
        b.get(m);
        String message;
        try {
            message = utf8(m, what + " message");
        } catch (NbdProtocolException notText) {
            message = "";
        }
        long offset = -1;
        if (type == Nbd.REPLY_TYPE_ERROR_OFFSET) {
            if (data.length != fixed + messageLength) {
                throw new NbdProtocolException(what + ": " + (data.length - fixed - messageLength)
                        + " bytes after the message, expected none");
            }
            offset = b.getLong();
            if (offset < 0) {
                throw new NbdProtocolException(what + ": offset " + Long.toUnsignedString(offset)
                        + " is beyond 2^63 bytes");
            }
        }
        return new ChunkError(error, message, offset);
    }

    public static byte[] encodeBlockStatus(int contextId, List<Descriptor> descriptors) {
        ByteBuffer b = ByteBuffer.allocate(4 + 8 * descriptors.size()).putInt(contextId);
        for (Descriptor d : descriptors) {
            b.putInt((int) d.length()).putInt(d.flags());
        }
        return b.array();
    }

    /**
     * Reads the payload of an NBD_REPLY_TYPE_BLOCK_STATUS chunk of {@code length} bytes descriptor by descriptor,
     * keeping at most {@code keep} of them (the rest are read and dropped, so a long chunk costs no memory). The
     * length must be 4 plus a positive multiple of 8 and at most {@link Nbd#MAX_STATUS_CHUNK}; every descriptor's
     * length must be nonzero.
     */
    public static BlockStatus readBlockStatus(InputStream in, long length, int keep) throws IOException {
        String what = "NBD_REPLY_TYPE_BLOCK_STATUS";
        if (length < 12 || (length - 4) % 8 != 0 || length > Nbd.MAX_STATUS_CHUNK) {
            throw new NbdProtocolException(what + ": length " + length + " is not 4 plus a positive multiple of 8"
                    + " up to " + Nbd.MAX_STATUS_CHUNK);
        }
        int contextId = header(in, 4, what + " context id").getInt();
        long count = (length - 4) / 8;
        List<Descriptor> kept = new ArrayList<>((int) Math.min(count, Math.min(keep, 1024)));
        byte[] d = new byte[8];
        ByteBuffer b = ByteBuffer.wrap(d);
        for (long i = 0; i < count; i++) {
            int got = in.readNBytes(d, 0, 8);
            if (got < 8) {
                throw new NbdProtocolException.Truncated(what + " descriptor " + i, got, 8);
            }
            long n = Integer.toUnsignedLong(b.getInt(0));
            if (n == 0) {
                throw new NbdProtocolException(what + ": descriptor " + i + " has length 0");
            }
            if (kept.size() < keep) {
                kept.add(new Descriptor(n, b.getInt(4)));
            }
        }
        return new BlockStatus(contextId, kept, count);
    }

    public static byte[] encodeMetaContextRequest(String name, List<String> queries) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        List<byte[]> q = queries.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 4 + q.stream().mapToInt(x -> 4 + x.length).sum())
                .putInt(n.length).put(n).putInt(q.size());
        for (byte[] x : q) {
            b.putInt(x.length).put(x);
        }
        return b.array();
    }

    /** Parses the data of NBD_OPT_SET_META_CONTEXT or NBD_OPT_LIST_META_CONTEXT. */
    public static MetaContextRequest parseMetaContextRequest(byte[] data) throws NbdProtocolException {
        ByteBuffer b = ByteBuffer.wrap(data);
        String what = "NBD_OPT_SET/LIST_META_CONTEXT data";
        String name = string(b, what + " export name");
        need(b, 4, what);
        long count = Integer.toUnsignedLong(b.getInt());
        if (count > Nbd.MAX_META_QUERIES) {
            throw new NbdProtocolException(what + ": " + count + " queries, more than " + Nbd.MAX_META_QUERIES);
        }
        List<String> queries = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            queries.add(string(b, what + " query " + i));
        }
        if (b.hasRemaining()) {
            throw new NbdProtocolException(what + ": " + b.remaining() + " bytes after the last query");
        }
        return new MetaContextRequest(name, queries);
    }

    public static byte[] encodeMetaContext(MetaContext c) {
        byte[] n = c.name().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + n.length).putInt(c.id()).put(n).array();
    }

    public static MetaContext parseMetaContext(byte[] data) throws NbdProtocolException {
        if (data.length < 4 || data.length > 4 + Nbd.MAX_STRING) {
            throw new NbdProtocolException("NBD_REP_META_CONTEXT: " + data.length + " bytes, expected 4 to "
                    + (4 + Nbd.MAX_STRING));
        }
        byte[] name = new byte[data.length - 4];
        System.arraycopy(data, 4, name, 0, name.length);
        return new MetaContext(ByteBuffer.wrap(data).getInt(), utf8(name, "NBD_REP_META_CONTEXT name"));
    }

    // ---- helpers ----

    /** A 32-bit length and that many bytes of strict UTF-8, at most {@link Nbd#MAX_STRING}. */
    private static String string(ByteBuffer b, String what) throws NbdProtocolException {
        need(b, 4, what);
        long length = Integer.toUnsignedLong(b.getInt());
        if (length > Nbd.MAX_STRING || length > b.remaining()) {
            throw new NbdProtocolException(what + ": length " + length + " exceeds " + Nbd.MAX_STRING
                    + " bytes or the " + b.remaining() + " that remain");
        }
        byte[] s = new byte[(int) length];
        b.get(s);
        return utf8(s, what);
    }

    /** Reads exactly {@code n} (a small constant) bytes. */
    private static ByteBuffer header(InputStream in, int n, String what) throws IOException {
        return ByteBuffer.wrap(body(in, n, what));
    }

    /** Reads exactly {@code n} bytes; {@code n} has been checked against its cap by the caller. */
    private static byte[] body(InputStream in, int n, String what) throws IOException {
        byte[] b = new byte[n];
        int got = in.readNBytes(b, 0, n);
        if (got < n) {
            throw new NbdProtocolException.Truncated(what, got, n);
        }
        return b;
    }

    private static void need(ByteBuffer b, int n, String what) throws NbdProtocolException {
        if (b.remaining() < n) {
            throw new NbdProtocolException(what + ": needs " + n + " more bytes, " + b.remaining() + " remain");
        }
    }

    /** Strict UTF-8 without NUL, as the protocol's strings must be. */
    static String utf8(byte[] bytes, String what) throws NbdProtocolException {
        try {
            CharBuffer c = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            String s = c.toString();
            if (s.indexOf('\0') >= 0) {
                throw new NbdProtocolException(what + ": contains a NUL character");
            }
            return s;
        } catch (CharacterCodingException e) {
            throw new NbdProtocolException(what + ": not valid UTF-8");
        }
    }
}
