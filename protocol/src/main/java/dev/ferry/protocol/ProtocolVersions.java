package dev.ferry.protocol;

import dev.ferry.protocol.v1.ProtocolVersion;
import dev.ferry.protocol.v1.StreamHeader;
import dev.ferry.protocol.v1.StreamKind;

/** The protocol version this build speaks, and the check every receiver makes on a stream's first message. */
public final class ProtocolVersions {
    public static final int MAJOR = 1;
    public static final int MINOR = 1;

    private ProtocolVersions() {}

    public static ProtocolVersion current() {
        return ProtocolVersion.newBuilder().setMajor(MAJOR).setMinor(MINOR).build();
    }

    public static StreamHeader header(StreamKind kind, String sender, String instanceId) {
        return StreamHeader.newBuilder().setVersion(current()).setKind(kind).setSender(sender)
                .setInstanceId(instanceId).build();
    }

    /** Returns null when {@code header} is acceptable, otherwise the reason to refuse the stream. */
    public static String refusalReason(StreamHeader header) {
        if (!header.hasVersion()) {
            return "stream header carries no protocol version";
        }
        if (header.getKind() == StreamKind.STREAM_KIND_UNSPECIFIED) {
            return "stream header names no stream kind";
        }
        int major = header.getVersion().getMajor();
        if (major != MAJOR) {
            return "peer " + header.getSender() + " speaks protocol " + major + "." + header.getVersion().getMinor()
                    + "; this build speaks " + MAJOR + "." + MINOR + " and reads only major " + MAJOR;
        }
        return null;
    }
}
