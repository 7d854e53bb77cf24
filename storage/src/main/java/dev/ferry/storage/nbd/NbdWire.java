package dev.ferry.storage.nbd;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

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

    /** A simple reply header (READ data follows it on the wire when error is 0). */
    public record SimpleReply(int error, long handle) {}

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

    // ---- helpers ----

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
