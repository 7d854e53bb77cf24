package dev.ferry.storage.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.storage.nbd.NbdServer;
import dev.ferry.storage.testing.FullDiskChannel;
import dev.ferry.storage.testing.Images;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamingDiskTest {
    private static final long SIZE = 32L << 20;
    private static final int BLOCK = 1 << 20;
    @TempDir
    Path dir;
    private Path images;
    private byte[] source;
    private NbdServer server;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void serve() throws Exception {
        images = Files.createDirectories(dir.resolve("images"));
        source = Files.readAllBytes(Images.random(images.resolve("src.raw"), SIZE, 3));
        server = NbdServer.start(images);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        server.close();
    }

    private StreamingDisk open(Path image, long rateLimit) throws IOException {
        StreamingDisk d = StreamingDisk.open(image, NbdRemoteImage.connect("127.0.0.1", server.port(), "src.raw"),
                StreamingDisk.Options.defaults().withCopyRateLimit(rateLimit));
        toClose.add(d);
        return d;
    }

    private static void await(BooleanSupplier condition, Duration within, String what) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " did not happen within " + within);
            }
            Thread.sleep(5);
        }
    }

    private byte[] readDisk(StreamingDisk d, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        d.read(offset, b);
        return b.array();
    }

    private byte[] sourceRange(long offset, int length) {
        byte[] b = new byte[length];
        System.arraycopy(source, (int) offset, b, 0, length);
        return b;
    }

    @Test
    void aReadOfABlockNotYetLocalReturnsTheSourceBytesAtOnce() throws Exception {
        StreamingDisk d = open(dir.resolve("local.img"), 1);   // the copier crawls: one batch, then a long pause
        long last = SIZE - BLOCK + 4000;
        assertArrayEquals(sourceRange(last, 5000), readDisk(d, last, 5000));
        assertEquals(1, d.status().guestFetches(), "the last block was fetched for the guest");
        assertTrue(d.status().blocksLocal() < d.status().blocksTotal());
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 40; i++) {
            int len = 1 + r.nextInt(3 * BLOCK);
            long off = r.nextLong(SIZE - len);
            assertArrayEquals(sourceRange(off, len), readDisk(d, off, len), "read of " + len + " at " + off);
        }
        StreamingStatus s = d.status();
        assertTrue(s.guestFetches() > 1, "reads were fetched on demand: " + s);
        assertEquals(41, s.guestReads());
    }

    @Test
    void theFinishedImageIsTheSourceWithTheGuestsWritesApplied() throws Exception {
        Path local = dir.resolve("local.img");
        StreamingDisk d = open(local, 4L << 20);
        List<GuestWrites.Write> writes = GuestWrites.forCapacity(SIZE, BLOCK);
        GuestWrites.applyTo(d, writes);
        for (GuestWrites.Write w : List.of(writes.get(1), writes.get(2))) {
            assertFalse(d.isComplete());
            assertArrayEquals(sliceOf(GuestWrites.expected(source, writes), w.offset(), w.bytes().length),
                    readDisk(d, w.offset(), w.bytes().length), "the write at " + w.offset() + " reads back");
        }
        d.throttle(0);
        d.whenComplete().get(30, TimeUnit.SECONDS);
        assertTrue(d.isComplete());
        assertEquals(StreamingStatus.Phase.COMPLETE, d.status().phase());
        assertEquals(d.status().blocksTotal(), d.status().blocksLocal());
        d.close();
        assertEquals(Images.sha256(GuestWrites.expected(source, writes)), Images.sha256(local));
    }

    private static byte[] sliceOf(byte[] all, long offset, int length) {
        byte[] b = new byte[length];
        System.arraycopy(all, (int) offset, b, 0, length);
        return b;
    }

    @Test
    void guestWritesAreNeverOverwrittenByTheCopierRunningAtFullSpeed() throws Exception {
        Path local = dir.resolve("local.img");
        StreamingDisk d = open(local, 0);
        SplittableRandom r = new SplittableRandom(9);
        List<GuestWrites.Write> writes = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            int len = 512 * (1 + r.nextInt(300));
            long off = 512L * r.nextLong((SIZE - len) / 512);
            byte[] b = new byte[len];
            r.nextBytes(b);
            writes.add(new GuestWrites.Write(off, b));
            d.write(off, ByteBuffer.wrap(b));
        }
        d.whenComplete().get(30, TimeUnit.SECONDS);
        byte[] expected = GuestWrites.expected(source, writes);
        for (GuestWrites.Write w : writes.subList(writes.size() - 20, writes.size())) {
            assertArrayEquals(sliceOf(expected, w.offset(), w.bytes().length), readDisk(d, w.offset(), w.bytes().length));
        }
        d.close();
        assertEquals(Images.sha256(expected), Images.sha256(local));
    }

    @Test
    void reopeningResumesAndCopiesOnlyTheMissingBlocks() throws Exception {
        Path local = dir.resolve("local.img");
        StreamingDisk first = open(local, 8L << 20);
        List<GuestWrites.Write> writes = GuestWrites.forCapacity(SIZE, BLOCK);
        GuestWrites.applyTo(first, writes);
        first.flush();
        await(() -> first.status().blocksLocal() >= 12, Duration.ofSeconds(20), "12 blocks local");
        first.close();

        long localAtOpen = Bitmaps.storedLocal(local, BLOCK, SIZE, "nbd://127.0.0.1:" + server.port() + "/src.raw");
        BlockBitmap.Summary stored = BlockBitmap.summarize(StreamingDisk.bitmapOf(local));
        assertEquals(new BlockBitmap.Summary(BLOCK, SIZE, "nbd://127.0.0.1:" + server.port() + "/src.raw",
                localAtOpen, SIZE / BLOCK), stored, "what a report of the closed disk says");
        StreamingDisk second = open(local, 0);
        assertTrue(localAtOpen >= 12 && localAtOpen < SIZE / BLOCK, "resumed with " + localAtOpen + " blocks local");
        second.whenComplete().get(30, TimeUnit.SECONDS);
        assertEquals((SIZE / BLOCK - localAtOpen) * BLOCK, second.status().bytesCopied(),
                "only the blocks missing at reopen were copied");
        second.close();
        assertEquals(Images.sha256(GuestWrites.expected(source, writes)), Images.sha256(local));
    }

    @Test
    void whenTheImageServerGoesAwayReadsWaitAndTheStatusSaysSoUntilItComesBack() throws Exception {
        Path local = dir.resolve("local.img");
        int port = server.port();
        StreamingDisk d = open(local, 8L << 20);
        await(() -> d.status().blocksLocal() >= 2, Duration.ofSeconds(20), "2 blocks local");
        server.close();
        await(() -> d.status().remoteUnreachable(), Duration.ofSeconds(20), "the status reporting the outage");
        assertTrue(d.status().message().startsWith("image server unreachable: "), d.status().message());
        assertEquals(StreamingStatus.Phase.STREAMING, d.status().phase());

        long off = SIZE - 3 * BLOCK + 77;
        CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
            try {
                return readDisk(d, off, 2 * BLOCK);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(300);
        assertFalse(read.isDone(), "a read of a block that is not local waits for the server");

        server = NbdServer.start(images, new InetSocketAddress("127.0.0.1", port));
        assertArrayEquals(sourceRange(off, 2 * BLOCK), read.get(20, TimeUnit.SECONDS));
        d.throttle(0);
        d.whenComplete().get(30, TimeUnit.SECONDS);
        assertEquals("complete", d.status().message());
        assertTrue(d.status().remoteRetries() > 0);
        d.close();
        assertEquals(Images.sha256(source), Images.sha256(local));
    }

    @Test
    void theCopierYieldsWhileTheGuestDoesIoAndRunsAtFullSpeedWhileItIsIdle() throws Exception {
        StreamingDisk.Options o = StreamingDisk.Options.defaults();
        StreamingDisk d = StreamingDisk.open(dir.resolve("local.img"),
                NbdRemoteImage.connect("127.0.0.1", server.port(), "src.raw"),
                new StreamingDisk.Options(BLOCK, 0, 1, Duration.ofMillis(20), 0, o.persistInterval(),
                        o.copyStreams()));
        toClose.add(d);
        long busyUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
        readDisk(d, 0, 4096);
        long atStart = d.status().blocksLocal();
        while (System.nanoTime() < busyUntil) {
            readDisk(d, 0, 4096);   // a local block: the guest is busy, the copier should hold back
        }
        long duringBusy = d.status().blocksLocal() - atStart;
        assertTrue(duringBusy < SIZE / BLOCK / 2, "the copier copied " + duringBusy + " blocks while the guest was busy");
        long t0 = System.nanoTime();
        d.whenComplete().get(30, TimeUnit.SECONDS);
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "idle, the copier finished");
        assertTrue(d.status().guestReads() > 100, "the guest's reads are counted: " + d.status());
    }

    @Test
    void aFullLocalDiskStopsTheDiskWithAClearError() throws Exception {
        Path local = dir.resolve("local.img");
        StreamingDisk d = StreamingDisk.open(local, NbdRemoteImage.connect("127.0.0.1", server.port(), "src.raw"),
                StreamingDisk.Options.defaults(), p -> new FullDiskChannel(java.nio.channels.FileChannel.open(p,
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.READ,
                        java.nio.file.StandardOpenOption.WRITE), 3L * BLOCK));
        toClose.add(d);
        java.util.concurrent.ExecutionException failed = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> d.whenComplete().get(20, TimeUnit.SECONDS));
        assertTrue(failed.getCause().getMessage().startsWith("local disk full writing image " + local),
                failed.getCause().getMessage());
        StreamingStatus s = d.status();
        assertEquals(StreamingStatus.Phase.FAILED, s.phase());
        assertTrue(s.message().startsWith("local disk full"), s.message());
        assertFalse(d.isComplete());
        IOException e = assertThrows(IOException.class, () -> readDisk(d, 0, 512));
        assertEquals(s.message(), e.getMessage());
    }

    @Test
    void anImageEndingInAPartOfABlockStreamsWhole() throws Exception {
        long size = 5L * BLOCK + 3 * 512;
        byte[] odd = Files.readAllBytes(Images.random(images.resolve("odd.raw"), size, 8));
        Path local = dir.resolve("odd.img");
        try (StreamingDisk d = StreamingDisk.open(local, NbdRemoteImage.connect("127.0.0.1", server.port(), "odd.raw"),
                StreamingDisk.Options.defaults().withCopyRateLimit(1))) {
            assertEquals(6, d.status().blocksTotal());
            byte[] tail = new byte[1000];
            System.arraycopy(odd, (int) size - 1000, tail, 0, 1000);
            assertArrayEquals(tail, readDisk(d, size - 1000, 1000));
            d.write(size - 512, ByteBuffer.wrap(new byte[512]));
            System.arraycopy(new byte[512], 0, odd, (int) size - 512, 512);
            d.throttle(0);
            d.whenComplete().get(30, TimeUnit.SECONDS);
        }
        assertEquals(size, Files.size(local));
        assertEquals(Images.sha256(odd), Images.sha256(local));
    }

    @Test
    void theImagesZerosStayHolesInTheLocalFile() throws Exception {
        Path sparse = Images.sparse(images.resolve("sparse.raw"), SIZE, BLOCK, 64 << 10, 11);
        Path local = dir.resolve("sparse.img");
        try (StreamingDisk d = StreamingDisk.open(local, NbdRemoteImage.connect("127.0.0.1", server.port(),
                "sparse.raw"), StreamingDisk.Options.defaults())) {
            byte[] expected = new byte[100_000];
            System.arraycopy(Files.readAllBytes(sparse), (int) (SIZE - BLOCK), expected, 0, expected.length);
            assertArrayEquals(expected, readDisk(d, SIZE - BLOCK, expected.length), "a guest fetch");
            d.whenComplete().get(30, TimeUnit.SECONDS);
            assertEquals(SIZE, d.status().bytesCopied(), "every block counts whole as copied, holes too");
        }
        assertEquals(Images.sha256(sparse), Images.sha256(local));
        long allocated = Images.allocated(local);
        assertTrue(allocated < SIZE / 8, "the local file has " + allocated + " bytes allocated for "
                + SIZE / BLOCK * (64 << 10) + " of data in " + SIZE);
    }

    @Test
    void aResumedFileWhoseMissingBlocksHoldStaleBytesEndsAsTheSource() throws Exception {
        Path sparse = Images.sparse(images.resolve("sparse.raw"), SIZE, BLOCK, 64 << 10, 12);
        Path local = dir.resolve("stale.img");
        String source = "nbd://127.0.0.1:" + server.port() + "/sparse.raw";
        StreamingDisk.open(local, NbdRemoteImage.connect("127.0.0.1", server.port(), "sparse.raw"),
                StreamingDisk.Options.defaults().withCopyRateLimit(1)).close();   // one batch or so, then closed
        long marked = Bitmaps.storedLocal(local, BLOCK, SIZE, source);
        assertTrue(marked < SIZE / BLOCK, marked + " blocks local");
        // bytes a copier or an unflushed guest write left in blocks whose bits were never stored, then a crash
        try (BlockBitmap bits = BlockBitmap.open(StreamingDisk.bitmapOf(local), BLOCK, SIZE, source);
             java.nio.channels.FileChannel f = java.nio.channels.FileChannel.open(local,
                     java.nio.file.StandardOpenOption.WRITE)) {
            long[] words = bits.load();
            byte[] junk = new byte[BLOCK];
            java.util.Arrays.fill(junk, (byte) 0xA5);
            for (long b = 0; b < SIZE / BLOCK; b++) {
                if ((words[(int) (b >>> 6)] & 1L << (b & 63)) == 0) {
                    f.write(ByteBuffer.wrap(junk), b * BLOCK);
                }
            }
        }
        try (StreamingDisk d = StreamingDisk.open(local, NbdRemoteImage.connect("127.0.0.1", server.port(),
                "sparse.raw"), StreamingDisk.Options.defaults())) {
            d.whenComplete().get(30, TimeUnit.SECONDS);
        }
        assertEquals(Images.sha256(sparse), Images.sha256(local));
    }

    @Test
    void anImageWithoutItsBitmapIsRefusedRatherThanTrusted() throws Exception {
        Path local = dir.resolve("orphan.img");
        Files.write(local, new byte[(int) SIZE]);
        IOException e = assertThrows(IOException.class, () -> open(local, 0));
        assertTrue(e.getMessage().contains("without its block bitmap"), e.getMessage());
    }

    @Test
    void aBitmapMadeForAnotherBlockSizeIsRefused() throws Exception {
        Path local = dir.resolve("local.img");
        open(local, 1).close();
        IOException e = assertThrows(IOException.class, () -> StreamingDisk.open(local,
                NbdRemoteImage.connect("127.0.0.1", server.port(), "src.raw"),
                StreamingDisk.Options.defaults().withBlockSize(64 * 1024)));
        assertTrue(e.getMessage().contains("in blocks of " + BLOCK), e.getMessage());
    }

    @Test
    void accessesOutsideTheDiskAreRefused() throws Exception {
        StreamingDisk d = open(dir.resolve("local.img"), 0);
        assertThrows(IOException.class, () -> d.read(SIZE - 1, ByteBuffer.allocate(2)));
        assertThrows(IOException.class, () -> d.write(-1, ByteBuffer.allocate(1)));
    }

    /** Data of holey.raw (64 MiB), offset and length pairs: in 5 of its 64 blocks, 2.75 MiB; the rest is holes. */
    private static final long[] HOLEY = {0, 256 << 10, 9L << 20, 512 << 10, (40L << 20) + 4096, 1 << 20, 63L << 20,
            1 << 20};
    private static final long HOLEY_SIZE = 64L << 20;

    private static long holeyData() {
        long n = 0;
        for (int i = 1; i < HOLEY.length; i += 2) {
            n += HOLEY[i];
        }
        return n;
    }

    @Test
    void aMostlySparseImageCopiesOnlyItsDataOverTheWire() throws Exception {
        Path holey = Images.holey(images.resolve("holey.raw"), HOLEY_SIZE, 21, HOLEY);
        Path local = dir.resolve("holey.img");
        long t0 = System.nanoTime();
        StreamingStatus s;
        try (StreamingDisk d = StreamingDisk.open(local, NbdRemoteImage.connect("127.0.0.1", server.port(),
                "holey.raw"), StreamingDisk.Options.defaults())) {
            d.whenComplete().get(30, TimeUnit.SECONDS);
            s = d.status();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("mostly sparse image: %d MiB in %.3f s, %d bytes over the wire, %d skipped as zeros%n",
                HOLEY_SIZE >> 20, seconds, s.wireBytes(), s.holeBytes());
        assertEquals(HOLEY_SIZE, s.bytesCopied());
        assertEquals(holeyData(), s.wireBytes(), "only the data crossed the wire: " + s);
        assertEquals(HOLEY_SIZE - holeyData(), s.holeBytes(), "the rest was skipped as zeros: " + s);
        assertEquals(Images.sha256(holey), Images.sha256(local));
        assertTrue(Images.allocated(local) < 8L << 20, Images.allocated(local) + " bytes allocated");
    }

    @Test
    void holesInsideFetchedBlocksAreNotTakenFromWhatTheCopiersBufferHeldBefore() throws Exception {
        // 32 blocks of data first (every copier thread's buffer fills with them), then 32 blocks of 64 KiB data
        // each and a hole after it, which the server sends as hole chunks into those same buffers
        long[] ranges = new long[2 + 2 * 32];
        ranges[0] = 0;
        ranges[1] = 32L * BLOCK;
        for (int i = 0; i < 32; i++) {
            ranges[2 + 2 * i] = (32L + i) * BLOCK;
            ranges[3 + 2 * i] = 64 << 10;
        }
        Path image = Images.holey(images.resolve("half.raw"), HOLEY_SIZE, 24, ranges);
        Path local = dir.resolve("half.img");
        StreamingStatus s;
        try (StreamingDisk d = StreamingDisk.open(local, NbdRemoteImage.connect("127.0.0.1", server.port(),
                "half.raw"), StreamingDisk.Options.defaults())) {
            d.whenComplete().get(30, TimeUnit.SECONDS);
            s = d.status();
        }
        assertEquals(Images.sha256(image), Images.sha256(local));
        assertEquals(32L * BLOCK + 32L * (64 << 10), s.wireBytes(), s.toString());
        assertTrue(Images.allocated(local) < 40L << 20, Images.allocated(local) + " bytes allocated");
    }

    @Test
    void blocksTheSourceSaysAreZeroAreZeroedInAResumedFileButTheGuestsWritesStay() throws Exception {
        Path holey = Images.holey(images.resolve("holey.raw"), HOLEY_SIZE, 22, HOLEY);
        Path local = dir.resolve("resumed.img");
        String source = "nbd://127.0.0.1:" + server.port() + "/holey.raw";
        // a file whose blocks are none of them marked, yet hold bytes (left before a crash)
        byte[] junk = new byte[BLOCK];
        java.util.Arrays.fill(junk, (byte) 0xA5);
        try (java.nio.channels.FileChannel f = java.nio.channels.FileChannel.open(local,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            for (long b = 0; b < HOLEY_SIZE / BLOCK; b++) {
                f.write(ByteBuffer.wrap(junk), b * BLOCK);
            }
        }
        BlockBitmap.create(StreamingDisk.bitmapOf(local), BLOCK, HOLEY_SIZE, source).close();
        byte[] expected = Files.readAllBytes(holey);
        List<GuestWrites.Write> writes = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(23);
        try (StreamingDisk d = StreamingDisk.open(local, NbdRemoteImage.connect("127.0.0.1", server.port(),
                "holey.raw"), StreamingDisk.Options.defaults())) {
            for (int i = 0; i < 64; i++) {
                int len = 512 * (1 + r.nextInt(64));
                long off = 512L * r.nextLong((HOLEY_SIZE - len) / 512);
                byte[] b = new byte[len];
                r.nextBytes(b);
                writes.add(new GuestWrites.Write(off, b));
                d.write(off, ByteBuffer.wrap(b));
            }
            d.whenComplete().get(30, TimeUnit.SECONDS);
            assertTrue(d.status().holeBytes() > HOLEY_SIZE / 2, "zero blocks were skipped: " + d.status());
        }
        assertEquals(Images.sha256(GuestWrites.expected(expected, writes)), Images.sha256(local));
    }
}
