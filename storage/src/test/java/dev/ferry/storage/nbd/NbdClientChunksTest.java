package dev.ferry.storage.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Our client against a scripted server that answers with the structured replies the protocol allows but our own
 * server never sends (chunks out of order, error chunks, other contexts) and with the ones it forbids.
 */
class NbdClientChunksTest {
    private static final long SIZE = 1 << 20;
    private static final int CONTEXT = 7;
    private static final byte[] IMAGE = new byte[(int) SIZE];

    static {
        new SplittableRandom(4).nextBytes(IMAGE);
    }

    private interface Script {
        void answer(NbdWire.Request r, OutputStream out) throws IOException;
    }

    private ServerSocket listener;
    private Thread thread;

    /** Serves one connection: negotiates (structured replies and base:allocation only if {@code structured}). */
    private int serve(boolean structured, Script script) throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        thread = new Thread(() -> {
            try (Socket s = listener.accept()) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                NbdWire.writeGreeting(out, Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
                NbdWire.readClientFlags(in);
                while (true) {
                    NbdWire.Option o = NbdWire.readOption(in);
                    if (o.option() == Nbd.OPT_GO) {
                        NbdWire.writeOptionReply(out, o.option(), Nbd.REP_INFO, NbdWire.encodeInfoExport(
                                new NbdWire.ExportInfo(SIZE, Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_READ_ONLY)));
                        NbdWire.writeOptionReply(out, o.option(), Nbd.REP_ACK, new byte[0]);
                        break;
                    } else if (!structured) {
                        NbdWire.writeOptionReply(out, o.option(), Nbd.REP_ERR_UNSUP, new byte[0]);
                    } else if (o.option() == Nbd.OPT_SET_META_CONTEXT) {
                        NbdWire.writeOptionReply(out, o.option(), Nbd.REP_META_CONTEXT, NbdWire.encodeMetaContext(
                                new NbdWire.MetaContext(CONTEXT, Nbd.META_BASE_ALLOCATION)));
                        NbdWire.writeOptionReply(out, o.option(), Nbd.REP_ACK, new byte[0]);
                    } else {
                        NbdWire.writeOptionReply(out, o.option(), Nbd.REP_ACK, new byte[0]);
                    }
                }
                while (true) {
                    NbdWire.Request r = NbdWire.readRequest(in);
                    if (r.type() == Nbd.CMD_DISC) {
                        return;
                    }
                    script.answer(r, out);
                }
            } catch (IOException e) {
                // the client hung up
            }
        }, "scripted-nbd-server");
        thread.setDaemon(true);
        thread.start();
        return listener.getLocalPort();
    }

    @AfterEach
    void stop() throws Exception {
        listener.close();
        thread.join(5000);
    }

    private static void data(OutputStream out, long handle, int flags, long at, int n) throws IOException {
        out.write(NbdWire.encodeChunkHeader(flags, Nbd.REPLY_TYPE_OFFSET_DATA, handle, 8 + n));
        out.write(ByteBuffer.allocate(8).putLong(at).array());
        out.write(IMAGE, (int) at, n);
    }

    private static void hole(OutputStream out, long handle, int flags, long at, int n) throws IOException {
        out.write(NbdWire.encodeChunkHeader(flags, Nbd.REPLY_TYPE_OFFSET_HOLE, handle, 12));
        out.write(NbdWire.encodeHole(new NbdWire.Hole(at, n)));
    }

    private static void done(OutputStream out, long handle) throws IOException {
        out.write(NbdWire.encodeChunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, handle, 0));
    }

    private static byte[] expected(long offset, int length, long holeAt, int holeLength) {
        byte[] b = java.util.Arrays.copyOfRange(IMAGE, (int) offset, (int) offset + length);
        java.util.Arrays.fill(b, (int) (holeAt - offset), (int) (holeAt - offset) + holeLength, (byte) 0);
        return b;
    }

    /** The last third as data, then the middle third as a hole, then the first third as data marked done. */
    private static final Script BACKWARDS = (r, out) -> {
        int third = (int) r.length() / 3;
        long o = r.offset();
        data(out, r.handle(), 0, o + 2L * third, (int) r.length() - 2 * third);
        hole(out, r.handle(), 0, o + third, third);
        data(out, r.handle(), Nbd.REPLY_FLAG_DONE, o, third);
    };

    @Test
    void readChunksInAnyOrderFillTheBufferAndHolesReadAsZeros() throws Exception {
        try (NbdClient c = NbdClient.connect("127.0.0.1", serve(true, BACKWARDS), "x")) {
            assertTrue(c.structuredReplies());
            ByteBuffer heap = ByteBuffer.allocate(30_000);
            java.util.Arrays.fill(heap.array(), (byte) 7);
            c.read(1000, heap);
            assertArrayEquals(expected(1000, 30_000, 11_000, 10_000), heap.array());
            ByteBuffer direct = ByteBuffer.allocateDirect(3 * 4096);
            c.read(8192, direct);
            byte[] got = new byte[3 * 4096];
            direct.flip().get(got);
            assertArrayEquals(expected(8192, 3 * 4096, 8192 + 4096, 4096), got);
            assertEquals(20_000 + 2 * 4096, c.dataBytesReceived());
            assertEquals(10_000 + 4096, c.zeroBytesReceived());
        }
    }

    @Test
    void anErrorChunkFailsTheReadWithTheServersMessageAndTheConnectionGoesOn() throws Exception {
        Script script = (r, out) -> {
            if (r.offset() == 0) {
                data(out, r.handle(), 0, 0, 512);
                byte[] e = NbdWire.encodeChunkError(new NbdWire.ChunkError(Nbd.EIO, "bad sector", 512));
                out.write(NbdWire.encodeChunkHeader(0, Nbd.REPLY_TYPE_ERROR_OFFSET, r.handle(), e.length));
                out.write(e);
                done(out, r.handle());
            } else {
                BACKWARDS.answer(r, out);
            }
        };
        try (NbdClient c = NbdClient.connect("127.0.0.1", serve(true, script), "x")) {
            NbdCommandException e = assertThrows(NbdCommandException.class, () -> c.read(0, ByteBuffer.allocate(1024)));
            assertEquals(Nbd.EIO, e.error());
            assertEquals("bad sector", e.serverMessage());
            assertTrue(e.getMessage().contains("bad sector"), e.getMessage());
            ByteBuffer b = ByteBuffer.allocate(3000);
            c.read(4096, b);
            assertArrayEquals(expected(4096, 3000, 5096, 1000), b.array());
        }
    }

    @Test
    void overlappingContentEndsTheConnection() throws Exception {
        Script script = (r, out) -> {
            data(out, r.handle(), 0, r.offset(), 600);
            data(out, r.handle(), Nbd.REPLY_FLAG_DONE, r.offset() + 512, (int) r.length() - 512);
        };
        try (NbdClient c = NbdClient.connect("127.0.0.1", serve(true, script), "x")) {
            IOException e = assertThrows(IOException.class, () -> c.read(0, ByteBuffer.allocate(1024)));
            assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
            assertFalse(c.isOpen());
        }
    }

    @Test
    void contentOutsideTheRequestEndsTheConnection() throws Exception {
        Script script = (r, out) -> data(out, r.handle(), Nbd.REPLY_FLAG_DONE, r.offset() + 1, (int) r.length());
        try (NbdClient c = NbdClient.connect("127.0.0.1", serve(true, script), "x")) {
            IOException e = assertThrows(IOException.class, () -> c.read(0, ByteBuffer.allocate(1024)));
            assertTrue(e.getMessage().contains("lies outside"), e.getMessage());
            assertFalse(c.isOpen());
        }
    }

    @Test
    void aReplyMarkedDoneBeforeItsContentIsWholeEndsTheConnection() throws Exception {
        Script script = (r, out) -> data(out, r.handle(), Nbd.REPLY_FLAG_DONE, r.offset(), (int) r.length() - 1);
        try (NbdClient c = NbdClient.connect("127.0.0.1", serve(true, script), "x")) {
            IOException e = assertThrows(IOException.class, () -> c.read(0, ByteBuffer.allocate(1024)));
            assertTrue(e.getMessage().contains("ended with 1023 bytes of content"), e.getMessage());
            assertFalse(c.isOpen());
        }
    }

    @Test
    void anUnknownChunkTypeThatIsNotAnErrorEndsTheConnection() throws Exception {
        Script script = (r, out) -> out.write(NbdWire.encodeChunkHeader(Nbd.REPLY_FLAG_DONE, 99, r.handle(), 0));
        try (NbdClient c = NbdClient.connect("127.0.0.1", serve(true, script), "x")) {
            IOException e = assertThrows(IOException.class, () -> c.read(0, ByteBuffer.allocate(16)));
            assertTrue(e.getMessage().contains("unknown structured reply chunk type 99"), e.getMessage());
        }
    }

    @Test
    void blockStatusKeepsTheSelectedContextAndStopsAtTheEndOfTheRange() throws Exception {
        Script script = (r, out) -> {
            byte[] other = NbdWire.encodeBlockStatus(CONTEXT + 2, List.of(new NbdWire.Descriptor(512, 0)));
            out.write(NbdWire.encodeChunkHeader(0, Nbd.REPLY_TYPE_BLOCK_STATUS, r.handle(), other.length));
            out.write(other);
            byte[] ours = NbdWire.encodeBlockStatus(CONTEXT, List.of(new NbdWire.Descriptor(4096, 0),
                    new NbdWire.Descriptor(8192, Nbd.STATE_HOLE | Nbd.STATE_ZERO), new NbdWire.Descriptor(65536, 0),
                    new NbdWire.Descriptor(4096, Nbd.STATE_HOLE)));
            out.write(NbdWire.encodeChunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_BLOCK_STATUS, r.handle(),
                    ours.length));
            out.write(ours);
        };
        try (NbdClient c = NbdClient.connect("127.0.0.1", serve(true, script), "x")) {
            assertTrue(c.supportsBlockStatus());
            List<NbdExtent> got = c.blockStatus(4096, 16384);
            assertEquals(List.of(new NbdExtent(4096, 4096, 0),
                    new NbdExtent(8192, 8192, Nbd.STATE_HOLE | Nbd.STATE_ZERO),
                    new NbdExtent(16384, 4096, 0)), got);
            assertTrue(got.get(1).zero() && got.get(1).hole());
        }
    }

    @Test
    void aServerRefusingStructuredRepliesIsReadWithSimpleRepliesAndReportsAllData() throws Exception {
        Script script = (r, out) -> {
            out.write(NbdWire.encodeSimpleReply(new NbdWire.SimpleReply(0, r.handle())));
            out.write(IMAGE, (int) r.offset(), (int) r.length());
        };
        try (NbdClient c = NbdClient.connect("127.0.0.1", serve(false, script), "x")) {
            assertFalse(c.structuredReplies());
            assertFalse(c.supportsBlockStatus());
            assertEquals(List.of(new NbdExtent(0, SIZE, 0)), c.blockStatus(0, SIZE), "not asked: all data");
            ByteBuffer b = ByteBuffer.allocate(5000);
            c.read(100, b);
            assertArrayEquals(java.util.Arrays.copyOfRange(IMAGE, 100, 5100), b.array());
            assertEquals(5000, c.dataBytesReceived());
        }
    }
}
