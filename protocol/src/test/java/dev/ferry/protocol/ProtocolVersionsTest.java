package dev.ferry.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.protocol.v1.ProtocolVersion;
import dev.ferry.protocol.v1.StreamHeader;
import dev.ferry.protocol.v1.StreamKind;
import org.junit.jupiter.api.Test;

class ProtocolVersionsTest {
    @Test
    void acceptsOwnHeaderAfterWireRoundTrip() throws Exception {
        StreamHeader h = ProtocolVersions.header(StreamKind.STREAM_KIND_PAGES, "h1", "i-1");
        StreamHeader back = StreamHeader.parseFrom(h.toByteArray());
        assertEquals(h, back);
        assertNull(ProtocolVersions.refusalReason(back));
    }

    @Test
    void acceptsNewerMinor() {
        StreamHeader h = ProtocolVersions.header(StreamKind.STREAM_KIND_PAGES, "h1", "")
                .toBuilder().setVersion(ProtocolVersion.newBuilder().setMajor(1).setMinor(7)).build();
        assertNull(ProtocolVersions.refusalReason(h));
    }

    @Test
    void refusesOtherMajorNamingBothVersions() {
        StreamHeader h = ProtocolVersions.header(StreamKind.STREAM_KIND_PAGES, "h9", "")
                .toBuilder().setVersion(ProtocolVersion.newBuilder().setMajor(2).setMinor(1)).build();
        String reason = ProtocolVersions.refusalReason(h);
        assertNotNull(reason);
        assertTrue(reason.contains("2.1") && reason.contains(ProtocolVersions.MAJOR + "." + ProtocolVersions.MINOR) && reason.contains("h9"), reason);
    }

    @Test
    void refusesHeaderWithoutKindOrVersion() {
        assertNotNull(ProtocolVersions.refusalReason(StreamHeader.newBuilder().setKind(StreamKind.STREAM_KIND_PAGES).build()));
        assertNotNull(ProtocolVersions.refusalReason(StreamHeader.newBuilder().setVersion(ProtocolVersions.current()).build()));
    }
}
