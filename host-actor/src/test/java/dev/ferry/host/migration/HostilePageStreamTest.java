package dev.ferry.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.typesafe.config.ConfigFactory;
import dev.ferry.protocol.ProtocolVersions;
import dev.ferry.protocol.v1.PageAck;
import dev.ferry.protocol.v1.StreamHeader;
import dev.ferry.protocol.v1.StreamKind;
import dev.ferry.vmm.memory.GuestMemory;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The destination's page-stream port, spoken to over TCP by a hostile peer: a first frame that is not an acceptable
 * page-stream header is refused and nothing sent after it reaches guest RAM; a frame length over the cap ends the
 * connection before anything is allocated for it; random bytes never reach guest RAM, and every broken stream is
 * reported as the migration's failure, at once.
 */
class HostilePageStreamTest {
    private static final long RAM = 16L << 20;
    private static ActorSystem<Void> system;
    private static GuestMemory source;
    private static byte[] batch;

    @BeforeContainer
    static void start() {
        system = ActorSystem.create(Behaviors.empty(), "hostile-streams", ConfigFactory.parseString(
                "pekko.actor.provider = local\npekko.loglevel = ERROR")
                .withFallback(ConfigFactory.parseResources("ferry-host.conf")).withFallback(ConfigFactory.load()));
        source = GuestMemory.allocate(RAM);
        for (long p = 0; p < 8; p++) {
            source.writeLong(p * GuestMemory.PAGE_SIZE + 64, 0x5151_0000L + p);
        }
        batch = BatchCodec.encode(source, new long[] {0, 1, 2, 3, 4, 5, 6, 7}, 0, 8, 0, 1).toByteArray();
    }

    @AfterContainer
    static void stop() {
        source.close();
        system.terminate();
    }

    private static byte[] validHeader() {
        return ProtocolVersions.header(StreamKind.STREAM_KIND_PAGES, "h1", "web").toByteArray();
    }

    /** One connection to a fresh receiver over fresh guest RAM. */
    private record Peer(GuestMemory ram, PageReceiver receiver, Socket socket, DataOutputStream out, DataInputStream in)
            implements AutoCloseable {
        static Peer connect() throws Exception {
            GuestMemory ram = GuestMemory.allocate(RAM);
            PageReceiver receiver = new PageReceiver(system, ram, "127.0.0.1");
            Socket s = new Socket("127.0.0.1", receiver.port());
            s.setSoTimeout(5_000);
            return new Peer(ram, receiver, s, new DataOutputStream(s.getOutputStream()), new DataInputStream(s.getInputStream()));
        }

        void frame(byte[] payload) throws IOException {
            out.writeInt(payload.length);
            out.write(payload);
            out.flush();
        }

        PageAck ack() throws IOException {
            int n = in.readInt();
            assertTrue(n >= 0 && n < 1 << 16, "acknowledgement of " + n + " bytes");
            byte[] b = new byte[n];
            in.readFully(b);
            return PageAck.parseFrom(b);
        }

        /** The receiver's verdict once the peer hangs up: a stream that ends early is always reported. */
        String failureAfterHangingUp() throws InterruptedException {
            try {
                socket.close();
            } catch (IOException e) {
                // already gone
            }
            long deadline = System.currentTimeMillis() + 5_000;
            while (receiver.failure() == null && System.currentTimeMillis() < deadline) {
                Thread.sleep(5);
            }
            assertNotNull(receiver.failure(), "a broken stream is reported within 5 s");
            return receiver.failure();
        }

        boolean ramUntouched() {
            for (long p = 0; p < 8; p++) {
                if (ram.readLong(p * GuestMemory.PAGE_SIZE + 64) != 0) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void close() throws IOException {
            socket.close();
            receiver.close();
            ram.close();
        }
    }

    private static boolean acceptable(byte[] header) {
        try {
            StreamHeader h = StreamHeader.parseFrom(header);
            return ProtocolVersions.refusalReason(h) == null && h.getKind() == StreamKind.STREAM_KIND_PAGES;
        } catch (InvalidProtocolBufferException e) {
            return false;
        }
    }

    @Example
    void aValidStreamAppliesItsBatch() throws Exception {
        try (Peer p = Peer.connect()) {
            p.frame(validHeader());
            p.frame(batch);
            PageAck a = p.ack();
            assertTrue(a.getOk(), a.getError());
            assertFalse(p.ramUntouched());
        }
    }

    @Property(tries = 120)
    void aRefusedHeaderIsAnsweredAndNothingSentAfterItReachesGuestRam(@ForAll("headers") byte[] header) throws Exception {
        try (Peer p = Peer.connect()) {
            p.frame(header);
            p.frame(batch);
            if (acceptable(header)) {
                assertTrue(p.ack().getOk(), "a batch after an acceptable header is applied");
                return;
            }
            PageAck refusal = p.ack();
            assertFalse(refusal.getOk());
            assertFalse(refusal.getError().isEmpty());
            PageAck second = readAckOrEnd(p);
            if (second != null) {
                assertFalse(second.getOk(), "a batch on a refused stream was applied");
            }
            assertTrue(p.ramUntouched(), "a batch on a refused stream reached guest RAM");
            assertEquals(refusal.getError(), p.failureAfterHangingUp());
        }
    }

    /** The next acknowledgement, or null when the receiver closed the connection instead. */
    private static PageAck readAckOrEnd(Peer p) throws IOException {
        try {
            return p.ack();
        } catch (EOFException | SocketException closed) {
            return null;
        }
    }

    @Provide
    Arbitrary<byte[]> headers() {
        byte[] valid = validHeader();
        Arbitrary<byte[]> flipped = Arbitraries.integers().between(0, valid.length * 8 - 1).map(bit -> {
            byte[] b = valid.clone();
            b[bit / 8] ^= (byte) (1 << (bit % 8));
            return b;
        });
        Arbitrary<byte[]> cut = Arbitraries.integers().between(0, valid.length - 1).map(n -> Arrays.copyOf(valid, n));
        Arbitrary<byte[]> otherKinds = Arbitraries.of(StreamKind.values()).filter(k -> k != StreamKind.UNRECOGNIZED)
                .map(k -> ProtocolVersions.header(k, "h1", "web").toBuilder()
                        .setVersion(ProtocolVersions.current().toBuilder().setMajor(k.getNumber() == 0 ? 2 : 1)).build()
                        .toByteArray());
        return Arbitraries.oneOf(flipped, cut, otherKinds, Arbitraries.bytes().array(byte[].class).ofMaxSize(64),
                Arbitraries.just(batch));
    }

    @Property(tries = 40)
    void aFrameLengthOverTheCapEndsTheConnectionWithoutAllocatingIt(
            @ForAll("oversized") int length) throws Exception {
        try (Peer p = Peer.connect()) {
            p.frame(validHeader());
            try {
                p.out.writeInt(length);
                p.out.write(new byte[64]);
                p.out.flush();
            } catch (SocketException reset) {
                // the receiver cut the connection as soon as it read the length: what this test wants
            }
            assertEquals(-1, readUntilClosed(p), "the receiver closes a connection whose frame is over the cap");
            assertTrue(p.ramUntouched());
            assertTrue(p.failureAfterHangingUp().contains("frame"), p.receiver.failure());
        }
    }

    @Provide
    Arbitrary<Integer> oversized() {
        return Arbitraries.oneOf(Arbitraries.integers().between(BatchCodec.MAX_FRAME + 1, Integer.MAX_VALUE),
                Arbitraries.integers().between(Integer.MIN_VALUE, -1),
                Arbitraries.of(BatchCodec.MAX_FRAME + 1, Integer.MAX_VALUE, -1));
    }

    private static int readUntilClosed(Peer p) throws IOException {
        try {
            while (true) {
                if (p.in.read() < 0) {
                    return -1;
                }
            }
        } catch (SocketException reset) {
            return -1;
        }
    }

    @Property(tries = 120)
    void randomBytesOnTheConnectionNeverReachGuestRam(@ForAll boolean headerFirst,
                                                       @ForAll @Size(max = 2048) byte[] junk,
                                                       @ForAll @IntRange(min = 0, max = 3) int frames) throws Exception {
        try (Peer p = Peer.connect()) {
            if (headerFirst) {
                p.frame(validHeader());
            }
            for (int i = 0; i < frames; i++) {
                p.frame(Arrays.copyOfRange(junk, 0, junk.length * (i + 1) / (frames + 1)));
            }
            p.out.write(junk);
            p.out.flush();
            p.failureAfterHangingUp();
            assertTrue(p.ramUntouched());
        }
    }
}
