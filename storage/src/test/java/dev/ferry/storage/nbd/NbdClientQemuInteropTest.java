package dev.ferry.storage.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.storage.testing.Images;
import dev.ferry.storage.testing.QemuNbd;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our client against qemu-nbd (Debian's qemu-utils), an NBD server written independently of ours. */
class NbdClientQemuInteropTest {
    private static final long SIZE = 64L << 20;
    @TempDir
    static Path dir;
    private static Path image;
    private static String sha;
    private static QemuNbd qemu;

    @BeforeAll
    static void serve() throws Exception {
        image = Images.random(dir.resolve("disk.raw"), SIZE, 7);
        sha = Images.sha256(image);
        qemu = QemuNbd.serve(image, "disk");
    }

    @AfterAll
    static void reap() throws Exception {
        if (qemu != null) {
            qemu.close();
        }
    }

    @Test
    void negotiatesWithGoAndLearnsTheSizeAndReadOnlyFlag() throws Exception {
        try (NbdClient c = NbdClient.connect("127.0.0.1", qemu.port(), "disk")) {
            assertTrue(c.negotiatedWithGo(), "qemu-nbd supports NBD_OPT_GO");
            assertEquals(SIZE, c.size());
            assertTrue(c.readOnly(), "qemu-nbd --read-only sets NBD_FLAG_READ_ONLY");
            assertNotNull(c.blockSize(), "qemu-nbd answers NBD_INFO_BLOCK_SIZE");
            c.flush();
        }
    }

    @Test
    void readsTheWholeImageFromQemuNbdByteForByte() throws Exception {
        try (NbdClient c = NbdClient.connect("127.0.0.1", qemu.port(), "disk")) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(16 << 20);
            long t0 = System.nanoTime();
            for (long off = 0; off < SIZE; off += buf.capacity()) {
                buf.clear();
                c.read(off, buf);
                d.update(buf.array(), 0, buf.capacity());
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("NBD read from qemu-nbd: %d MiB in %.3f s = %.0f MiB/s%n", SIZE >> 20, seconds,
                    (SIZE >> 20) / seconds);
            assertEquals(sha, HexFormat.of().formatHex(d.digest()));
        }
    }

    @Test
    void readsFromSeveralThreadsAtOnceEachGetTheirOwnBytes() throws Exception {
        byte[] all = Files.readAllBytes(image);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (NbdClient c = NbdClient.connect("127.0.0.1", qemu.port(), "disk")) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                long seed = t;
                jobs.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    for (int i = 0; i < 50; i++) {
                        int len = 1 + r.nextInt(300_000);
                        long off = r.nextLong(SIZE - len);
                        ByteBuffer b = r.nextBoolean() ? ByteBuffer.allocate(len) : ByteBuffer.allocateDirect(len);
                        c.read(off, b);
                        byte[] got = new byte[len];
                        b.flip().get(got);
                        byte[] want = new byte[len];
                        System.arraycopy(all, (int) off, want, 0, len);
                        assertArrayEquals(want, got, "read of " + len + " at " + off);
                    }
                    return null;
                }));
            }
            for (Future<?> f : jobs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anUnknownExportIsRefusedNamingTheExportAndTheServer() {
        NbdRefusedException e = assertThrows(NbdRefusedException.class,
                () -> NbdClient.connect("127.0.0.1", qemu.port(), "no-such-disk"));
        assertEquals(Nbd.REP_ERR_UNKNOWN, e.replyType());
        assertTrue(e.getMessage().contains("no-such-disk") && e.getMessage().contains("127.0.0.1:" + qemu.port()),
                e.getMessage());
    }

    @Test
    void aReadPastTheEndIsRefusedBeforeItIsSent() throws Exception {
        try (NbdClient c = NbdClient.connect("127.0.0.1", qemu.port(), "disk")) {
            NbdCommandException e = assertThrows(NbdCommandException.class, () -> c.read(SIZE - 10, ByteBuffer.allocate(20)));
            assertEquals(Nbd.EINVAL, e.error());
            ByteBuffer last = ByteBuffer.allocate(10);
            c.read(SIZE - 10, last);
            assertTrue(c.isOpen());
        }
    }

    @Test
    void getsTheExtentsOfASparseImageFromQemuNbdAndReadsItsHolesAsZeros() throws Exception {
        long size = 16L << 20;
        long[] data = {0, 64 << 10, 5L << 20, 1 << 20, (15L << 20) + 8192, 4096};
        Path sparse = Images.holey(dir.resolve("sparse.raw"), size, 9, data);
        try (QemuNbd q = QemuNbd.serve(sparse, "sparse");
             NbdClient c = NbdClient.connect("127.0.0.1", q.port(), "sparse")) {
            assertTrue(c.structuredReplies(), "qemu-nbd acknowledges NBD_OPT_STRUCTURED_REPLY");
            assertTrue(c.supportsBlockStatus(), "qemu-nbd selects base:allocation");
            List<NbdExtent> map = new ArrayList<>();
            for (long at = 0; at < size; ) {
                List<NbdExtent> part = c.blockStatus(at, size - at);
                for (NbdExtent e : part) {
                    NbdExtent last = map.isEmpty() ? null : map.get(map.size() - 1);
                    if (last != null && last.flags() == e.flags() && last.end() == e.offset()) {
                        map.set(map.size() - 1, new NbdExtent(last.offset(), last.length() + e.length(), e.flags()));
                    } else {
                        map.add(e);
                    }
                }
                at = part.get(part.size() - 1).end();
            }
            int hole = Nbd.STATE_HOLE | Nbd.STATE_ZERO;
            assertEquals(List.of(new NbdExtent(0, 64 << 10, 0), new NbdExtent(64 << 10, (5L << 20) - (64 << 10), hole),
                    new NbdExtent(5L << 20, 1 << 20, 0), new NbdExtent(6L << 20, (9L << 20) + 8192, hole),
                    new NbdExtent((15L << 20) + 8192, 4096, 0),
                    new NbdExtent((15L << 20) + 12288, (1 << 20) - 12288, hole)), map);
            ByteBuffer all = ByteBuffer.allocate((int) size);
            c.read(0, all);
            assertArrayEquals(Files.readAllBytes(sparse), all.array());
            System.out.printf("sparse image from qemu-nbd: %d of %d bytes as data, %d as zeros%n",
                    c.dataBytesReceived(), size, c.zeroBytesReceived());
            assertEquals(size, c.dataBytesReceived() + c.zeroBytesReceived());
        }
    }
}
