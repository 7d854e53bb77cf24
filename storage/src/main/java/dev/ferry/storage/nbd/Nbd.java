package dev.ferry.storage.nbd;

/**
 * The numbers of the NBD protocol (the upstream {@code doc/proto.md}) that Ferry uses, and Ferry's own limits on what
 * it accepts. Every multi-byte field travels big-endian.
 */
public final class Nbd {
    private Nbd() {}

    /** {@code NBDMAGIC}, the first eight bytes a server sends. */
    public static final long INIT_MAGIC = 0x4e42444d41474943L;
    /** {@code IHAVEOPT}: the server's second eight bytes, and the start of every option the client sends. */
    public static final long OPTS_MAGIC = 0x49484156454F5054L;
    /** The start of every option reply. */
    public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    /** The start of each chunk of a structured reply, sent only once NBD_OPT_STRUCTURED_REPLY is acknowledged. */
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    // handshake flags (server, 16 bits) and client flags (32 bits)
    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 1 << 1;
    public static final int FLAG_C_FIXED_NEWSTYLE = 1;
    public static final int FLAG_C_NO_ZEROES = 1 << 1;

    // transmission flags (16 bits)
    public static final int FLAG_HAS_FLAGS = 1;
    public static final int FLAG_READ_ONLY = 1 << 1;
    public static final int FLAG_SEND_FLUSH = 1 << 2;
    public static final int FLAG_SEND_FUA = 1 << 3;
    public static final int FLAG_ROTATIONAL = 1 << 4;
    public static final int FLAG_SEND_TRIM = 1 << 5;
    public static final int FLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int FLAG_CAN_MULTI_CONN = 1 << 8;

    // options
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;

    // option reply types; errors have bit 31 set
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_META_CONTEXT = 4;
    public static final int REP_FLAG_ERROR = 1 << 31;
    public static final int REP_ERR_UNSUP = REP_FLAG_ERROR | 1;
    public static final int REP_ERR_POLICY = REP_FLAG_ERROR | 2;
    public static final int REP_ERR_INVALID = REP_FLAG_ERROR | 3;
    public static final int REP_ERR_PLATFORM = REP_FLAG_ERROR | 4;
    public static final int REP_ERR_TLS_REQD = REP_FLAG_ERROR | 5;
    public static final int REP_ERR_UNKNOWN = REP_FLAG_ERROR | 6;
    public static final int REP_ERR_SHUTDOWN = REP_FLAG_ERROR | 7;
    public static final int REP_ERR_BLOCK_SIZE_REQD = REP_FLAG_ERROR | 8;
    public static final int REP_ERR_TOO_BIG = REP_FLAG_ERROR | 9;

    // NBD_REP_INFO types
    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    // commands
    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_CACHE = 5;
    public static final int CMD_WRITE_ZEROES = 6;
    public static final int CMD_BLOCK_STATUS = 7;
    public static final int CMD_FLAG_FUA = 1;
    /** READ: at most one content chunk (only when the server sets NBD_FLAG_SEND_DF, which Ferry's does not). */
    public static final int CMD_FLAG_DF = 1 << 2;
    /** BLOCK_STATUS: one descriptor, no longer than the request. */
    public static final int CMD_FLAG_REQ_ONE = 1 << 3;

    // structured replies: the chunk flag, the chunk types (errors have bit 15 set)
    public static final int REPLY_FLAG_DONE = 1;
    public static final int REPLY_TYPE_NONE = 0;
    public static final int REPLY_TYPE_OFFSET_DATA = 1;
    public static final int REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int REPLY_TYPE_FLAG_ERROR = 1 << 15;
    public static final int REPLY_TYPE_ERROR = REPLY_TYPE_FLAG_ERROR | 1;
    public static final int REPLY_TYPE_ERROR_OFFSET = REPLY_TYPE_FLAG_ERROR | 2;

    /** The one metadata context Ferry knows: which ranges are holes and read as zeros. */
    public static final String META_BASE_ALLOCATION = "base:allocation";
    // base:allocation status flags
    public static final int STATE_HOLE = 1;
    public static final int STATE_ZERO = 1 << 1;

    // errors in simple replies: NBD's own numbers, equal to Linux errno values
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    /** Ferry refuses an option (or option reply) whose data is longer than this. */
    public static final int MAX_OPTION_LENGTH = 64 * 1024;
    /** The longest export name or message the protocol allows. */
    public static final int MAX_STRING = 4096;
    /** The longest read or write one request may ask for (the common server limit); longer ones get EINVAL. */
    public static final int MAX_PAYLOAD = 32 * 1024 * 1024;
    /** At most this many info requests in one NBD_OPT_GO/INFO. */
    public static final int MAX_INFO_REQUESTS = 64;
    /** The longest chunk Ferry accepts: an NBD_REPLY_TYPE_OFFSET_DATA of {@link #MAX_PAYLOAD} bytes and its offset. */
    public static final long MAX_CHUNK_LENGTH = MAX_PAYLOAD + 8L;
    /** The longest error chunk: error, message length, a message of {@link #MAX_STRING} bytes, an offset. */
    public static final int MAX_ERROR_CHUNK = 4 + 2 + MAX_STRING + 8;
    /** The longest NBD_REPLY_TYPE_BLOCK_STATUS chunk: a context id and 2^20 descriptors, the protocol's limit. */
    public static final long MAX_STATUS_CHUNK = 4 + 8L * (1 << 20);
    /** Of one block status chunk, a client keeps at most this many descriptors (the rest it reads and drops). */
    public static final int MAX_EXTENTS_KEPT = 1 << 16;
    /** At most this many queries in one NBD_OPT_SET_META_CONTEXT or NBD_OPT_LIST_META_CONTEXT. */
    public static final int MAX_META_QUERIES = 64;
    /** The size of an option, request and simple reply header on the wire. */
    public static final int OPTION_HEADER = 16;
    public static final int REQUEST_HEADER = 28;
    public static final int SIMPLE_REPLY_HEADER = 16;
    public static final int CHUNK_HEADER = 20;

    /** A short name for an option, for messages. */
    public static String optionName(int option) {
        return switch (option) {
            case OPT_EXPORT_NAME -> "NBD_OPT_EXPORT_NAME";
            case OPT_ABORT -> "NBD_OPT_ABORT";
            case OPT_LIST -> "NBD_OPT_LIST";
            case OPT_STARTTLS -> "NBD_OPT_STARTTLS";
            case OPT_INFO -> "NBD_OPT_INFO";
            case OPT_GO -> "NBD_OPT_GO";
            case OPT_STRUCTURED_REPLY -> "NBD_OPT_STRUCTURED_REPLY";
            case OPT_LIST_META_CONTEXT -> "NBD_OPT_LIST_META_CONTEXT";
            case OPT_SET_META_CONTEXT -> "NBD_OPT_SET_META_CONTEXT";
            default -> "option " + Integer.toUnsignedString(option);
        };
    }

    /** A short name for an option reply type, for messages. */
    public static String replyName(int type) {
        return switch (type) {
            case REP_ACK -> "NBD_REP_ACK";
            case REP_SERVER -> "NBD_REP_SERVER";
            case REP_INFO -> "NBD_REP_INFO";
            case REP_META_CONTEXT -> "NBD_REP_META_CONTEXT";
            case REP_ERR_UNSUP -> "NBD_REP_ERR_UNSUP";
            case REP_ERR_POLICY -> "NBD_REP_ERR_POLICY";
            case REP_ERR_INVALID -> "NBD_REP_ERR_INVALID";
            case REP_ERR_PLATFORM -> "NBD_REP_ERR_PLATFORM";
            case REP_ERR_TLS_REQD -> "NBD_REP_ERR_TLS_REQD";
            case REP_ERR_UNKNOWN -> "NBD_REP_ERR_UNKNOWN";
            case REP_ERR_SHUTDOWN -> "NBD_REP_ERR_SHUTDOWN";
            case REP_ERR_BLOCK_SIZE_REQD -> "NBD_REP_ERR_BLOCK_SIZE_REQD";
            case REP_ERR_TOO_BIG -> "NBD_REP_ERR_TOO_BIG";
            default -> "reply type 0x" + Integer.toHexString(type);
        };
    }

    /** A short name for a structured reply chunk type, for messages. */
    public static String chunkName(int type) {
        return switch (type) {
            case REPLY_TYPE_NONE -> "NBD_REPLY_TYPE_NONE";
            case REPLY_TYPE_OFFSET_DATA -> "NBD_REPLY_TYPE_OFFSET_DATA";
            case REPLY_TYPE_OFFSET_HOLE -> "NBD_REPLY_TYPE_OFFSET_HOLE";
            case REPLY_TYPE_BLOCK_STATUS -> "NBD_REPLY_TYPE_BLOCK_STATUS";
            case REPLY_TYPE_ERROR -> "NBD_REPLY_TYPE_ERROR";
            case REPLY_TYPE_ERROR_OFFSET -> "NBD_REPLY_TYPE_ERROR_OFFSET";
            default -> "chunk type " + type;
        };
    }

    /** A short name for an NBD error number, for messages. */
    public static String errorName(int error) {
        return switch (error) {
            case EPERM -> "EPERM";
            case EIO -> "EIO";
            case ENOMEM -> "ENOMEM";
            case EINVAL -> "EINVAL";
            case ENOSPC -> "ENOSPC";
            case EOVERFLOW -> "EOVERFLOW";
            case ENOTSUP -> "ENOTSUP";
            case ESHUTDOWN -> "ESHUTDOWN";
            default -> "error " + Integer.toUnsignedString(error);
        };
    }
}
