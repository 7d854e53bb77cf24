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
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 2000);
            s.setSoTimeout(5000);
            in = new BufferedInputStream(s.getInputStream());
            out = s.getOutputStream();
            NbdWire.readGreeting(in);
            NbdWire.writeClientFlags(out, Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);
            if (export != null) {
                NbdWire.writeOption(out, Nbd.OPT_GO, NbdWire.encodeInfoRequest(export));
                while (NbdWire.readOptionReply(in, Nbd.OPT_GO).type() != Nbd.REP_ACK) {
                    // the infos
                }
            }
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
}
