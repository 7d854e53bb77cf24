package dev.ferry.storage.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/**
 * Every NBD decoder, fed random bytes and mutated valid messages, either decodes or throws {@link NbdProtocolException}:
 * no other exception, no hang (the input is finite and no decoder waits for more than the length it accepted), and no
 * allocation beyond its cap.
 */
class NbdWirePropertiesTest {
    /**
     * No decode may allocate more than this, whatever length its input claims (up to 4 GiB); the slack over the 64 KiB
     * cap is for class loading and exception stack traces.
     */
    private static final long ALLOCATION_BOUND = 4L << 20;

    private interface Decoder {
        Object decode(byte[] input) throws IOException;
    }

    private static final List<Decoder> DECODERS = List.of(
            b -> NbdWire.readGreeting(new ByteArrayInputStream(b)),
            b -> NbdWire.readClientFlags(new ByteArrayInputStream(b)),
            b -> NbdWire.readOption(new ByteArrayInputStream(b)),
            b -> NbdWire.readOptionReply(new ByteArrayInputStream(b), Nbd.OPT_GO),
            b -> NbdWire.readExportNameReply(new ByteArrayInputStream(b), true),
            b -> NbdWire.readExportNameReply(new ByteArrayInputStream(b), false),
            b -> NbdWire.readRequest(new ByteArrayInputStream(b)),
            b -> NbdWire.readSimpleReply(new ByteArrayInputStream(b)),
            NbdWire::parseInfoRequest,
            NbdWire::parseInfoExport,
            NbdWire::parseInfoBlockSize,
            NbdWire::parseServer,
            NbdWire::infoType,
            b -> NbdWire.readReply(new ByteArrayInputStream(b), true),
            b -> NbdWire.readReply(new ByteArrayInputStream(b), false),
            NbdWire::parseHole,
            b -> NbdWire.parseChunkError(Nbd.REPLY_TYPE_ERROR, b),
            b -> NbdWire.parseChunkError(Nbd.REPLY_TYPE_ERROR_OFFSET, b),
            b -> NbdWire.parseChunkError(Nbd.REPLY_TYPE_FLAG_ERROR | 77, b),
            b -> NbdWire.readBlockStatus(new ByteArrayInputStream(b), b.length, 16),
            b -> NbdWire.readBlockStatus(new ByteArrayInputStream(b), b.length < 4 ? 0
                    : Integer.toUnsignedLong(ByteBuffer.wrap(b).getInt()), 16),   // a length the peer claims
            b -> NbdWire.readChunkOffset(new ByteArrayInputStream(b)),
            NbdWire::parseMetaContextRequest,
            NbdWire::parseMetaContext);

    private static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    private static void decodeOrRejectPrecisely(byte[] input) {
        for (int i = 0; i < DECODERS.size(); i++) {
            long before = allocatedByThisThread();
            try {
                DECODERS.get(i).decode(input);
            } catch (NbdProtocolException e) {
                assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a message says what was wrong");
            } catch (Throwable t) {
                fail("decoder " + i + " threw " + t + " instead of NbdProtocolException", t);
            }
            long allocated = allocatedByThisThread() - before;
            assertTrue(allocated < ALLOCATION_BOUND, "decoder " + i + " allocated " + allocated + " bytes");
        }
    }

    @Property(tries = 500)
    void randomBytesDecodeOrAreRejectedWithAProtocolException(@ForAll @Size(max = 300) byte[] input) {
        decodeOrRejectPrecisely(input);
    }

    @Property(tries = 1000)
    void mutatedValidMessagesDecodeOrAreRejectedWithAProtocolException(@ForAll("mutated") byte[] input) {
        decodeOrRejectPrecisely(input);
    }

    @Provide
    Arbitrary<byte[]> mutated() {
        Arbitrary<byte[]> valid = Arbitraries.of(validMessages());
        return Combinators.combine(valid, Arbitraries.integers().between(0, 1000), Arbitraries.integers().between(0, 255),
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 1 << 20)).as((m, at, value, how, len) -> {
            byte[] b = m.clone();
            int i = b.length == 0 ? 0 : at % b.length;
            return switch (how) {
                case 0 -> { // flip one byte
                    if (b.length > 0) {
                        b[i] = (byte) (int) value;
                    }
                    yield b;
                }
                case 1 -> java.util.Arrays.copyOf(b, i);   // cut short
                case 2 -> { // a length field (at 12..15 in options and requests' length at 24..27) made hostile
                    ByteBuffer bb = ByteBuffer.wrap(b);
                    if (b.length >= 16) {
                        bb.putInt(12, len * 4099);
                    }
                    if (b.length >= 28) {
                        bb.putInt(24, len * 4099);
                    }
                    yield b;
                }
                default -> { // extended with junk
                    byte[] e = java.util.Arrays.copyOf(b, b.length + 1 + value);
                    e[b.length] = (byte) (int) value;
                    yield e;
                }
            };
        });
    }

    private static List<byte[]> validMessages() {
        try {
            ByteArrayOutputStream greeting = new ByteArrayOutputStream();
            NbdWire.writeGreeting(greeting, Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
            ByteArrayOutputStream go = new ByteArrayOutputStream();
            NbdWire.writeOption(go, Nbd.OPT_GO, NbdWire.encodeInfoRequest("disk.raw", Nbd.INFO_BLOCK_SIZE));
            ByteArrayOutputStream info = new ByteArrayOutputStream();
            NbdWire.writeOptionReply(info, Nbd.OPT_GO, Nbd.REP_INFO,
                    NbdWire.encodeInfoExport(new NbdWire.ExportInfo(1 << 30, Nbd.FLAG_HAS_FLAGS)));
            ByteArrayOutputStream exportReply = new ByteArrayOutputStream();
            NbdWire.writeExportNameReply(exportReply, new NbdWire.ExportInfo(4096, 3), false);
            return List.of(greeting.toByteArray(), go.toByteArray(), info.toByteArray(), exportReply.toByteArray(),
                    NbdWire.encodeRequest(new NbdWire.Request(0, Nbd.CMD_READ, 7, 4096, 512)),
                    NbdWire.encodeSimpleReply(new NbdWire.SimpleReply(0, 7)),
                    NbdWire.encodeInfoRequest("disk.raw", Nbd.INFO_EXPORT, Nbd.INFO_BLOCK_SIZE),
                    NbdWire.encodeInfoExport(new NbdWire.ExportInfo(1 << 20, 1)),
                    NbdWire.encodeInfoBlockSize(new NbdWire.BlockSize(1, 4096, Nbd.MAX_PAYLOAD)),
                    NbdWire.encodeServer("disk.raw"),
                    // structured replies and metadata contexts (10 and on)
                    NbdWire.encodeChunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_OFFSET_DATA, 7, 8 + 512),
                    NbdWire.encodeHole(new NbdWire.Hole(4096, 65536)),
                    NbdWire.encodeChunkError(new NbdWire.ChunkError(Nbd.EIO, "bad sector", 512)),
                    NbdWire.encodeChunkError(new NbdWire.ChunkError(Nbd.EINVAL, "out of range", -1)),
                    NbdWire.encodeBlockStatus(1, List.of(new NbdWire.Descriptor(4096, 0),
                            new NbdWire.Descriptor(1 << 20, Nbd.STATE_HOLE | Nbd.STATE_ZERO))),
                    NbdWire.encodeMetaContextRequest("disk.raw", List.of(Nbd.META_BASE_ALLOCATION, "base:")),
                    NbdWire.encodeMetaContext(new NbdWire.MetaContext(1, Nbd.META_BASE_ALLOCATION)));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An endless stream of zeros that counts what it gave. */
    private static final class Endless extends InputStream {
        final byte[] head;
        long given;

        Endless(byte[] head) {
            this.head = head;
        }

        @Override
        public int read() {
            return given < head.length ? head[(int) given++] & 0xff : (int) (given++ * 0);
        }
    }

    @Property(tries = 200)
    void anOptionLongerThan64KiBIsRefusedBeforeItsDataIsRead(
            @ForAll @LongRange(min = Nbd.MAX_OPTION_LENGTH + 1, max = 0xffff_ffffL) long length) {
        byte[] header = ByteBuffer.allocate(16).putLong(Nbd.OPTS_MAGIC).putInt(Nbd.OPT_GO).putInt((int) length).array();
        Endless in = new Endless(header);
        long before = allocatedByThisThread();
        NbdProtocolException e = assertThrows(NbdProtocolException.class, () -> NbdWire.readOption(in));
        assertTrue(allocatedByThisThread() - before < ALLOCATION_BOUND);
        assertEquals(16, in.given, "only the header was read");
        assertEquals("NBD option NBD_OPT_GO: data length " + length + " exceeds the 65536-byte limit", e.getMessage());
    }

    @Property(tries = 200)
    void anOptionReplyLongerThan64KiBIsRefusedBeforeItsDataIsRead(
            @ForAll @LongRange(min = Nbd.MAX_OPTION_LENGTH + 1, max = 0xffff_ffffL) long length) {
        byte[] header = ByteBuffer.allocate(20).putLong(Nbd.OPTION_REPLY_MAGIC).putInt(Nbd.OPT_LIST)
                .putInt(Nbd.REP_SERVER).putInt((int) length).array();
        Endless in = new Endless(header);
        NbdProtocolException e = assertThrows(NbdProtocolException.class,
                () -> NbdWire.readOptionReply(in, Nbd.OPT_LIST));
        assertEquals(20, in.given, "only the header was read");
        assertTrue(e.getMessage().contains("exceeds the 65536-byte limit"), e.getMessage());
    }

    @Property(tries = 300)
    void everyPrefixOfAValidMessageIsRejectedAsTruncated(@ForAll @IntRange(min = 0, max = 9) int which,
                                                        @ForAll @IntRange(min = 0, max = 200) int cut) {
        byte[] m = validMessages().get(which);
        if (which >= 6) {
            return;   // payload parsers take whole arrays; covered by the random tests
        }
        byte[] prefix = java.util.Arrays.copyOf(m, Math.min(cut, m.length - 1));
        Decoder d = switch (which) {
            case 0 -> DECODERS.get(0);
            case 1 -> DECODERS.get(2);
            case 2 -> DECODERS.get(3);
            case 3 -> DECODERS.get(5);
            case 4 -> DECODERS.get(6);
            default -> DECODERS.get(7);
        };
        assertThrows(NbdProtocolException.Truncated.class, () -> d.decode(prefix));
    }

    @Property(tries = 200)
    void aChunkLongerThanTheLargestReadIsRefusedBeforeItsPayloadIsRead(
            @ForAll @LongRange(min = Nbd.MAX_CHUNK_LENGTH + 1, max = 0xffff_ffffL) long length,
            @ForAll @IntRange(min = 0, max = 0xffff) int type) {
        Endless in = new Endless(NbdWire.encodeChunkHeader(0, type, 7, length));
        NbdProtocolException e = assertThrows(NbdProtocolException.class, () -> NbdWire.readReply(in, true));
        assertEquals(Nbd.CHUNK_HEADER, in.given, "only the header was read");
        assertTrue(e.getMessage().contains("exceeds the " + Nbd.MAX_CHUNK_LENGTH + "-byte limit"), e.getMessage());
    }

    @Property(tries = 100)
    void aBlockStatusOfAMillionDescriptorsKeepsOnlyWhatItMayAndAllocatesLittle(
            @ForAll @IntRange(min = 1, max = 1 << 20) int count) throws IOException {
        byte[] descriptor = ByteBuffer.allocate(8).putInt(512).putInt(0).array();
        InputStream in = new InputStream() {   // context 0, then descriptors of 512 bytes, endlessly
            long given;

            @Override
            public int read() {
                long i = given++;
                return i < 4 ? 0 : descriptor[(int) ((i - 4) % 8)];
            }
        };
        long before = allocatedByThisThread();
        NbdWire.BlockStatus s = NbdWire.readBlockStatus(in, 4 + 8L * count, 100);
        assertEquals(Math.min(count, 100), s.descriptors().size());
        assertEquals(count, s.sent());
        assertTrue(allocatedByThisThread() - before < ALLOCATION_BOUND);
    }

    @Property(tries = 200)
    void aBlockStatusTooLongOrNotWholeDescriptorsIsRefusedBeforeReading(
            @ForAll @LongRange(min = 0, max = 0xffff_ffffL) long length) {
        if (length >= 12 && (length - 4) % 8 == 0 && length <= Nbd.MAX_STATUS_CHUNK) {
            return;
        }
        Endless in = new Endless(new byte[0]);
        assertThrows(NbdProtocolException.class, () -> NbdWire.readBlockStatus(in, length, 16));
        assertEquals(0, in.given);
    }

    @Property(tries = 300)
    void structuredMessagesDecodeToWhatWasEncoded(@ForAll @IntRange(min = 0, max = 0xffff) int flags,
                                                  @ForAll @IntRange(min = 0, max = 0xffff) int type,
                                                  @ForAll long handle,
                                                  @ForAll @LongRange(min = 0, max = Nbd.MAX_CHUNK_LENGTH) long length,
                                                  @ForAll @LongRange(min = 0) long offset,
                                                  @ForAll @LongRange(min = 1, max = 0xffff_ffffL) long size,
                                                  @ForAll @IntRange(min = 1) int error,
                                                  @ForAll @Size(max = 200) String message) throws IOException {
        assertEquals(new NbdWire.Chunk(flags, type, handle, length), NbdWire.readReply(
                new ByteArrayInputStream(NbdWire.encodeChunkHeader(flags, type, handle, length)), true));
        assertEquals(new NbdWire.Hole(offset, size), NbdWire.parseHole(NbdWire.encodeHole(new NbdWire.Hole(offset, size))));
        if (message.indexOf('\0') < 0 && message.codePoints().noneMatch(c -> c >= 0xD800 && c <= 0xDFFF)) {
            NbdWire.ChunkError e = new NbdWire.ChunkError(error, message, offset);
            assertEquals(e, NbdWire.parseChunkError(Nbd.REPLY_TYPE_ERROR_OFFSET, NbdWire.encodeChunkError(e)));
            NbdWire.ChunkError plain = new NbdWire.ChunkError(error, message, -1);
            assertEquals(plain, NbdWire.parseChunkError(Nbd.REPLY_TYPE_ERROR, NbdWire.encodeChunkError(plain)));
            NbdWire.MetaContextRequest m = new NbdWire.MetaContextRequest(message, List.of(message, "base:"));
            assertEquals(m, NbdWire.parseMetaContextRequest(NbdWire.encodeMetaContextRequest(m.name(), m.queries())));
        }
        List<NbdWire.Descriptor> d = List.of(new NbdWire.Descriptor(size, flags), new NbdWire.Descriptor(1, 0));
        byte[] status = NbdWire.encodeBlockStatus(error, d);
        assertEquals(new NbdWire.BlockStatus(error, d, 2),
                NbdWire.readBlockStatus(new ByteArrayInputStream(status), status.length, 16));
    }

    @Property(tries = 300)
    void validMessagesDecodeToWhatWasEncoded(@ForAll @IntRange(min = 0, max = 0xffff) int type,
                                             @ForAll long handle, @ForAll @LongRange(min = 0) long offset,
                                             @ForAll @LongRange(min = 0, max = 0xffff_ffffL) long length,
                                             @ForAll @Size(max = 4096) String name) throws IOException {
        NbdWire.Request r = new NbdWire.Request(0, type, handle, offset, length);
        assertEquals(r, NbdWire.readRequest(new ByteArrayInputStream(NbdWire.encodeRequest(r))));
        if (name.indexOf('\0') < 0 && name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= Nbd.MAX_STRING
                && name.codePoints().noneMatch(c -> c >= 0xD800 && c <= 0xDFFF)) {
            NbdWire.InfoRequest ir = NbdWire.parseInfoRequest(NbdWire.encodeInfoRequest(name, Nbd.INFO_BLOCK_SIZE));
            assertEquals(name, ir.name());
            assertEquals(name, NbdWire.parseServer(NbdWire.encodeServer(name)));
        }
    }
}
