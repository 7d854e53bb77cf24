package dev.ferry.storage.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.storage.testing.Images;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our server against our client, and against hand-written bytes for the requests a polite client never sends. */
class NbdServerTest {
    private static final long SIZE = 4L << 20;
    @TempDir
    Path dir;
    private byte[] image;
    private NbdServer server;

    @BeforeEach
    void serve() throws IOException {
        image = Files.readAllBytes(Images.random(dir.resolve("disk.img"), SIZE, 1));
        Files.write(dir.resolve("other.img"), new byte[4096]);
        server = NbdServer.start(dir);
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    /** A session negotiated by hand, in transmission mode. */
    private final class Raw implements AutoCloseable {
        final Socket s = new Socket();
        final InputStream in;
        final OutputStream out;

        Raw(String export) throws IOException {
            this(export, false);
        }

        /** {@code structured}: negotiates structured replies and selects base:allocation before choosing. */
        Raw(String export, boolean structured) throws IOException {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 2000);
            s.setSoTimeout(5000);
            in = new BufferedInputStream(s.getInputStream());
            out = s.getOutputStream();
            NbdWire.readGreeting(in);
            NbdWire.writeClientFlags(out, Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);
            if (structured) {
                assertEquals(Nbd.REP_ACK, option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]).type());
                List<NbdWire.OptionReply> set = options(Nbd.OPT_SET_META_CONTEXT,
                        NbdWire.encodeMetaContextRequest(export, List.of(Nbd.META_BASE_ALLOCATION)));
                assertEquals(2, set.size(), "base:allocation, then the acknowledgement");
            }
            if (export != null) {
                NbdWire.writeOption(out, Nbd.OPT_GO, NbdWire.encodeInfoRequest(export));
                while (NbdWire.readOptionReply(in, Nbd.OPT_GO).type() != Nbd.REP_ACK) {
                    // the infos
                }
            }
        }

        NbdWire.OptionReply option(int option, byte[] data) throws IOException {
            NbdWire.writeOption(out, option, data);
            return NbdWire.readOptionReply(in, option);
        }

        /** The replies to {@code option} up to and with the first that is not NBD_REP_META_CONTEXT. */
        List<NbdWire.OptionReply> options(int option, byte[] data) throws IOException {
            NbdWire.writeOption(out, option, data);
            List<NbdWire.OptionReply> replies = new java.util.ArrayList<>();
            NbdWire.OptionReply r;
            do {
                r = NbdWire.readOptionReply(in, option);
                replies.add(r);
            } while (r.type() == Nbd.REP_META_CONTEXT);
            return replies;
        }

        void send(int flags, int type, long offset, long length) throws IOException {
            out.write(NbdWire.encodeRequest(new NbdWire.Request(flags, type, 42, offset, length)));
        }

        NbdWire.Chunk chunk() throws IOException {
            NbdWire.Chunk c = (NbdWire.Chunk) NbdWire.readReply(in, true);
            assertEquals(42, c.handle());
            return c;
        }

        NbdWire.SimpleReply request(int type, long offset, long length) throws IOException {
            out.write(NbdWire.encodeRequest(new NbdWire.Request(0, type, 42, offset, length)));
            NbdWire.SimpleReply r = NbdWire.readSimpleReply(in);
            assertEquals(42, r.handle());
            return r;
        }

        @Override
        public void close() throws IOException {
            s.close();
        }
    }

    @Test
    void ourClientReadsTheExportByteForByte() throws Exception {
        try (NbdClient c = NbdClient.connect("127.0.0.1", server.port(), "disk.img")) {
            assertTrue(c.negotiatedWithGo());
            assertTrue(c.readOnly());
            assertEquals(SIZE, c.size());
            ByteBuffer all = ByteBuffer.allocateDirect((int) SIZE);
            c.read(0, all);
            byte[] got = new byte[(int) SIZE];
            all.flip().get(got);
            assertArrayEquals(image, got);
            c.flush();
        }
        assertTrue(server.bytesServed() >= SIZE);
    }

    @Test
    void theClientFallsBackToExportNameWhenTheServerDoesNotKnowGo() throws Exception {
        try (NbdServer old = NbdServer.start(dir, new InetSocketAddress("127.0.0.1", 0), false);
             NbdClient c = NbdClient.connect("127.0.0.1", old.port(), "disk.img")) {
            assertFalse(c.negotiatedWithGo());
            assertEquals(SIZE, c.size());
            ByteBuffer b = ByteBuffer.allocate(10_000);
            c.read(SIZE - 10_000, b);
            byte[] want = new byte[10_000];
            System.arraycopy(image, (int) SIZE - 10_000, want, 0, want.length);
            assertArrayEquals(want, b.array());
        }
    }

    @Test
    void anUnknownExportIsRefusedAndTheListNamesEveryExport() throws Exception {
        NbdRefusedException e = assertThrows(NbdRefusedException.class,
                () -> NbdClient.connect("127.0.0.1", server.port(), "nope.img"));
        assertEquals(Nbd.REP_ERR_UNKNOWN, e.replyType());
        assertTrue(e.getMessage().contains("'nope.img'"), e.getMessage());
        assertEquals(List.of("disk.img", "other.img"), NbdClient.list("127.0.0.1", server.port()));
    }

    @Test
    void aWriteToTheReadOnlyExportIsRefusedWithEpermAndTheConnectionGoesOn() throws Exception {
        try (Raw r = new Raw("disk.img")) {
            r.out.write(NbdWire.encodeRequest(new NbdWire.Request(0, Nbd.CMD_WRITE, 42, 0, 3000)));
            r.out.write(new byte[3000]);
            NbdWire.SimpleReply reply = NbdWire.readSimpleReply(r.in);
            assertEquals(Nbd.EPERM, reply.error());
            assertEquals(Nbd.EPERM, r.request(Nbd.CMD_TRIM, 0, 4096).error());
            assertEquals(0, r.request(Nbd.CMD_READ, 0, 16).error());
            byte[] data = r.in.readNBytes(16);
            assertEquals(image[15], data[15]);
        }
    }

    @Test
    void readsPastTheEndOrLongerThan32MiBAreRefusedWithEinval() throws Exception {
        try (Raw r = new Raw("disk.img")) {
            assertEquals(Nbd.EINVAL, r.request(Nbd.CMD_READ, SIZE - 1, 2).error());
            assertEquals(Nbd.EINVAL, r.request(Nbd.CMD_READ, -8, 2).error());
            assertEquals(Nbd.EINVAL, r.request(Nbd.CMD_READ, 0, Nbd.MAX_PAYLOAD + 1L).error());
            assertEquals(Nbd.EINVAL, r.request(Nbd.CMD_READ, 0, 0xffff_ffffL).error());
            assertEquals(Nbd.EINVAL, r.request(99, 0, 0).error());
            assertEquals(0, r.request(Nbd.CMD_READ, SIZE - 1, 1).error());
            assertEquals(image[(int) SIZE - 1], (byte) r.in.read());
        }
    }

    @Test
    void anOptionLongerThan64KiBDropsTheConnectionAndTheServerServesTheNextClient() throws Exception {
        try (Raw r = new Raw(null)) {
            r.out.write(ByteBuffer.allocate(16).putLong(Nbd.OPTS_MAGIC).putInt(Nbd.OPT_GO).putInt(-1).array());
            assertEquals(-1, r.in.read(), "the server hung up");
        }
        try (NbdClient c = NbdClient.connect("127.0.0.1", server.port(), "other.img")) {
            assertEquals(4096, c.size());
        }
    }

    @Test
    void randomBytesFromAClientDoNotHurtTheServer() throws Exception {
        SplittableRandom rnd = new SplittableRandom(2);
        for (int i = 0; i < 30; i++) {
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.setSoTimeout(5000);
                byte[] junk = new byte[rnd.nextInt(1, 2000)];
                rnd.nextBytes(junk);
                if (i % 2 == 0) {   // past the greeting, into option haggling
                    System.arraycopy(ByteBuffer.allocate(12).putInt(Nbd.FLAG_C_FIXED_NEWSTYLE).putLong(Nbd.OPTS_MAGIC)
                            .array(), 0, junk, 0, Math.min(12, junk.length));
                }
                s.getOutputStream().write(junk);
                s.shutdownOutput();
                s.getInputStream().readAllBytes();   // the server answers what it can, then hangs up
            }
        }
        try (NbdClient c = NbdClient.connect("127.0.0.1", server.port(), "disk.img")) {
            ByteBuffer b = ByteBuffer.allocate(100);
            c.read(1000, b);
            assertEquals(image[1099], b.array()[99]);
        }
    }

    @Test
    void closingTheServerEndsItsConnectionsAndTheClientSaysWhichServerWentAway() throws Exception {
        NbdClient c = NbdClient.connect("127.0.0.1", server.port(), "disk.img");
        server.close();
        IOException e = assertThrows(IOException.class, () -> {
            for (int i = 0; i < 100; i++) {
                c.read(0, ByteBuffer.allocate(512));
                Thread.sleep(10);
            }
        });
        assertTrue(e.getMessage().contains("127.0.0.1:" + server.port()), e.getMessage());
        assertFalse(c.isOpen());
        c.close();
    }

    // ---- structured replies and base:allocation ----

    private static final long SPARSE = 4L << 20;
    /** The data of sparse.img, offset and length pairs; the rest is holes. */
    private static final long[] DATA = {0, 64 << 10, 1 << 20, 128 << 10, (3 << 20) + 4096, 4096};

    private byte[] sparse() throws IOException {
        return Files.readAllBytes(Images.holey(dir.resolve("sparse.img"), SPARSE, 5, DATA));
    }

    /** What base:allocation says of sparse.img: its data, and holes that read as zeros between. */
    private static List<NbdExtent> sparseMap() {
        List<NbdExtent> map = new java.util.ArrayList<>();
        long at = 0;
        for (int i = 0; i < DATA.length; i += 2) {
            if (DATA[i] > at) {
                map.add(new NbdExtent(at, DATA[i] - at, Nbd.STATE_HOLE | Nbd.STATE_ZERO));
            }
            map.add(new NbdExtent(DATA[i], DATA[i + 1], 0));
            at = DATA[i] + DATA[i + 1];
        }
        map.add(new NbdExtent(at, SPARSE - at, Nbd.STATE_HOLE | Nbd.STATE_ZERO));
        return map;
    }

    @Test
    void structuredRepliesAndBaseAllocationAreNegotiatedAndUnknownContextsAreLeftOut() throws Exception {
        sparse();
        try (Raw r = new Raw(null)) {
            assertEquals(Nbd.REP_ACK, r.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]).type());
            List<NbdWire.OptionReply> set = r.options(Nbd.OPT_SET_META_CONTEXT, NbdWire.encodeMetaContextRequest(
                    "sparse.img", List.of("qemu:dirty-bitmap:b", "base:", Nbd.META_BASE_ALLOCATION, "base:nope")));
            assertEquals(2, set.size());
            assertEquals(new NbdWire.MetaContext(NbdServer.ALLOCATION_CONTEXT_ID, Nbd.META_BASE_ALLOCATION),
                    NbdWire.parseMetaContext(set.get(0).data()));
            assertEquals(Nbd.REP_ACK, set.get(1).type());
            List<NbdWire.OptionReply> list = r.options(Nbd.OPT_LIST_META_CONTEXT,
                    NbdWire.encodeMetaContextRequest("sparse.img", List.of()));
            assertEquals(Nbd.META_BASE_ALLOCATION, NbdWire.parseMetaContext(list.get(0).data()).name());
            assertEquals(Nbd.REP_ACK, list.get(1).type());
            List<NbdWire.OptionReply> none = r.options(Nbd.OPT_SET_META_CONTEXT,
                    NbdWire.encodeMetaContextRequest("sparse.img", List.of("qemu:allocation-depth")));
            assertEquals(1, none.size(), "an unknown context is not returned");
            assertEquals(Nbd.REP_ACK, none.get(0).type());
            assertEquals(Nbd.REP_ERR_UNKNOWN, r.option(Nbd.OPT_SET_META_CONTEXT, NbdWire.encodeMetaContextRequest(
                    "nope.img", List.of(Nbd.META_BASE_ALLOCATION))).type());
            assertEquals(Nbd.REP_ERR_INVALID, r.option(Nbd.OPT_STRUCTURED_REPLY, new byte[1]).type());
        }
    }

    @Test
    void metaContextsBeforeStructuredRepliesAreRefusedAndBlockStatusThenGetsEinval() throws Exception {
        sparse();
        try (Raw r = new Raw(null)) {
            assertEquals(Nbd.REP_ERR_INVALID, r.option(Nbd.OPT_SET_META_CONTEXT,
                    NbdWire.encodeMetaContextRequest("sparse.img", List.of(Nbd.META_BASE_ALLOCATION))).type());
        }
        try (Raw r = new Raw("sparse.img")) {
            assertEquals(Nbd.EINVAL, r.request(Nbd.CMD_BLOCK_STATUS, 0, 4096).error());
            assertEquals(0, r.request(Nbd.CMD_READ, 64 << 10, 8).error(), "reads are simple replies, as before");
            assertArrayEquals(new byte[8], r.in.readNBytes(8), "a hole of the file reads as zeros");
        }
    }

    @Test
    void blockStatusReportsTheHolesOfASparseFile() throws Exception {
        sparse();
        try (NbdClient c = NbdClient.connect("127.0.0.1", server.port(), "sparse.img")) {
            assertTrue(c.structuredReplies());
            assertTrue(c.supportsBlockStatus());
            assertEquals(sparseMap(), c.blockStatus(0, SPARSE));
            List<NbdExtent> mid = c.blockStatus(100, 1 << 20);
            assertEquals(new NbdExtent(100, (64 << 10) - 100, 0), mid.get(0));
            assertEquals(new NbdExtent(1 << 20, 100, 0), mid.get(mid.size() - 1), "none reaches past the range");
            assertThrows(NbdCommandException.class, () -> c.blockStatus(SPARSE - 10, 11));
        }
    }

    @Test
    void blockStatusWithReqOneGivesOneDescriptorAndOutOfRangeGetsAnErrorChunk() throws Exception {
        sparse();
        try (Raw r = new Raw("sparse.img", true)) {
            r.send(Nbd.CMD_FLAG_REQ_ONE, Nbd.CMD_BLOCK_STATUS, 0, 8192);
            NbdWire.Chunk c = r.chunk();
            assertTrue(c.done());
            assertEquals(Nbd.REPLY_TYPE_BLOCK_STATUS, c.type());
            NbdWire.BlockStatus b = NbdWire.readBlockStatus(r.in, c.length(), 100);
            assertEquals(NbdServer.ALLOCATION_CONTEXT_ID, b.contextId());
            assertEquals(List.of(new NbdWire.Descriptor(8192, 0)), b.descriptors());

            r.send(0, Nbd.CMD_BLOCK_STATUS, SPARSE - 4096, 8192);
            NbdWire.Chunk e = r.chunk();
            assertTrue(e.done() && e.isError(), "an error chunk: " + e);
            NbdWire.ChunkError err = NbdWire.parseChunkError(e.type(), NbdWire.readChunkPayload(r.in, e, 10_000));
            assertEquals(Nbd.EINVAL, err.error());
            assertTrue(err.message().contains("outside"), err.message());

            r.send(0, Nbd.CMD_BLOCK_STATUS, 0, SPARSE);
            assertEquals(Nbd.REPLY_TYPE_BLOCK_STATUS, r.chunk().type(), "the connection goes on");
        }
    }

    @Test
    void aStructuredReadSendsTheFilesHolesAsHoleChunks() throws Exception {
        byte[] file = sparse();
        try (Raw r = new Raw("sparse.img", true)) {
            r.send(0, Nbd.CMD_READ, 0, 2 << 20);
            byte[] got = new byte[2 << 20];
            java.util.Arrays.fill(got, (byte) 0x5a);
            List<String> chunks = new java.util.ArrayList<>();
            NbdWire.Chunk c;
            do {
                c = r.chunk();
                if (c.type() == Nbd.REPLY_TYPE_OFFSET_DATA) {
                    long at = NbdWire.readChunkOffset(r.in);
                    r.in.readNBytes(got, (int) at, (int) c.length() - 8);
                    chunks.add("data " + at + "+" + (c.length() - 8));
                } else {
                    assertEquals(Nbd.REPLY_TYPE_OFFSET_HOLE, c.type());
                    NbdWire.Hole h = NbdWire.parseHole(NbdWire.readChunkPayload(r.in, c, 12));
                    java.util.Arrays.fill(got, (int) h.offset(), (int) (h.offset() + h.length()), (byte) 0);
                    chunks.add("hole " + h.offset() + "+" + h.length());
                }
            } while (!c.done());
            assertEquals(List.of("data 0+65536", "hole 65536+983040", "data 1048576+131072", "hole 1179648+917504"),
                    chunks);
            assertArrayEquals(java.util.Arrays.copyOf(file, 2 << 20), got);

            r.send(0, Nbd.CMD_READ, SPARSE - 1, 2);
            NbdWire.Chunk e = r.chunk();
            assertEquals(Nbd.REPLY_TYPE_ERROR, e.type());
            assertTrue(e.done());
            assertEquals(Nbd.EINVAL, NbdWire.parseChunkError(e.type(), NbdWire.readChunkPayload(r.in, e, 10_000))
                    .error());
        }
    }

    @Test
    void ourClientReadsASparseExportWithOnlyItsDataOnTheWire() throws Exception {
        byte[] file = sparse();
        long served = server.bytesServed();
        try (NbdClient c = NbdClient.connect("127.0.0.1", server.port(), "sparse.img")) {
            ByteBuffer heap = ByteBuffer.allocate((int) SPARSE);
            java.util.Arrays.fill(heap.array(), (byte) 1);
            c.read(0, heap);
            assertArrayEquals(file, heap.array());
            ByteBuffer direct = ByteBuffer.allocateDirect(3 << 20);
            c.read(SPARSE - (3 << 20), direct);
            byte[] got = new byte[3 << 20];
            direct.flip().get(got);
            assertArrayEquals(java.util.Arrays.copyOfRange(file, (int) SPARSE - (3 << 20), (int) SPARSE), got);
            long onWire = (64 << 10) + (128 << 10) + 4096 + (128 << 10) + 4096;   // the data of both reads
            assertEquals(onWire, c.dataBytesReceived());
            assertEquals(SPARSE + (3 << 20) - onWire, c.zeroBytesReceived());
        }
        assertEquals((64 << 10) + 2 * ((128 << 10) + 4096), server.bytesServed() - served, "holes are not sent");
    }
}
