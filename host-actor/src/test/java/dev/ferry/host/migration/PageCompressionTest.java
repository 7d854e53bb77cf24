package dev.ferry.host.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.protocol.v1.PageBatch;
import dev.ferry.protocol.v1.PageCompression;
import dev.ferry.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PageCompressionTest {
    private static final int N = BatchCodec.MAX_PAGES;
    private GuestMemory source;
    private GuestMemory target;
    private final long[] pages = LongStream.range(0, N).toArray();

    @BeforeEach
    void allocate() {
        source = GuestMemory.allocate(16L << 20);
        target = GuestMemory.allocate(16L << 20);
    }

    @AfterEach
    void free() {
        source.close();
        target.close();
    }

    private void fill(java.util.function.IntFunction<ByteBuffer> page) {
        for (int p = 0; p < N; p++) {
            source.writePage(p, page.apply(p));
        }
    }

    private static byte[] read(GuestMemory m) {
        ByteBuffer all = ByteBuffer.allocate(N * GuestMemory.PAGE_SIZE);
        for (int p = 0; p < N; p++) {
            m.readPage(p, all);
        }
        return all.array();
    }

    /** What a dirtier writing one word per page leaves: pages that are zero but for 8 bytes. */
    private void oneWordPages() {
        fill(p -> {
            ByteBuffer b = ByteBuffer.allocate(GuestMemory.PAGE_SIZE);
            b.putLong((p * 8) % GuestMemory.PAGE_SIZE, 0x1234_5678_0000_0000L | p);
            return b;
        });
    }

    @Test
    void pagesThatAreMostlyZeroTravelAsLz4AtAFractionOfTheirSizeAndArriveIntact() {
        oneWordPages();
        PageBatch b = BatchCodec.encode(source, pages, 0, N, 0, 0, true);
        assertEquals(PageCompression.PAGE_COMPRESSION_LZ4, b.getCompression());
        assertEquals(N * GuestMemory.PAGE_SIZE, b.getRawLength());
        assertTrue(b.getData().size() < N * GuestMemory.PAGE_SIZE / 50, "LZ4 data " + b.getData().size() + " bytes");
        assertEquals(N, BatchCodec.dataPages(b));
        assertEquals(N, BatchCodec.verifyAndApply(b, target));
        assertArrayEquals(read(source), read(target));
    }

    @Test
    void aBatchWithZeroPagesOrGapsStillTravelsAsLz4AndArrivesIntact() {
        fill(p -> {
            ByteBuffer b = ByteBuffer.allocate(GuestMemory.PAGE_SIZE);
            if (p % 5 != 0) {
                b.putLong(64, p + 1);
            }
            return b;
        });
        long[] gappy = LongStream.range(0, N).filter(p -> p % 7 != 3).toArray();
        for (long[] set : new long[][] {pages, gappy}) {
            try (GuestMemory fresh = GuestMemory.allocate(16L << 20)) {
                PageBatch b = BatchCodec.encode(source, set, 0, set.length, 0, 0, true);
                assertEquals(PageCompression.PAGE_COMPRESSION_LZ4, b.getCompression());
                BatchCodec.verifyAndApply(b, fresh);
                for (long p : set) {
                    assertEquals(source.readLong(p * GuestMemory.PAGE_SIZE + 64), fresh.readLong(p * GuestMemory.PAGE_SIZE + 64));
                }
                if (set == pages) {
                    assertEquals(source.checksum(), fresh.checksum(), "every page, the zero ones included");
                }
            }
        }
    }

    @Test
    void lz4DataThatPassesItsChecksumButDoesNotDecodeIsRefusedAndWritesNothing() {
        oneWordPages();
        PageBatch b = BatchCodec.encode(source, pages, 0, N, 0, 0, true);
        byte[] junk = new byte[b.getData().size()];
        new Random(2).nextBytes(junk);
        ByteString data = ByteString.copyFrom(junk);
        PageBatch forged = b.toBuilder().setData(data)
                .setCrc32C((int) BatchCodec.crc(N, b::getPages, b.getZero(), data)).build();
        byte[] before = read(target);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BatchCodec.verifyAndApply(forged, target));
        assertTrue(e.getMessage().contains("LZ4"), e.getMessage());
        assertArrayEquals(before, read(target));
    }

    @Test
    void pagesThatDoNotCompressTravelRaw() {
        Random r = new Random(1);
        fill(p -> {
            byte[] b = new byte[GuestMemory.PAGE_SIZE];
            r.nextBytes(b);
            return ByteBuffer.wrap(b);
        });
        PageBatch b = BatchCodec.encode(source, pages, 0, N, 0, 0, true);
        assertEquals(PageCompression.PAGE_COMPRESSION_NONE, b.getCompression());
        assertEquals(N * GuestMemory.PAGE_SIZE, b.getData().size());
        BatchCodec.verifyAndApply(b, target);
        assertArrayEquals(read(source), read(target));
    }

    @Test
    void withoutLz4TheSamePagesTravelRaw() {
        oneWordPages();
        PageBatch b = BatchCodec.encode(source, pages, 0, N, 0, 0, false);
        assertEquals(PageCompression.PAGE_COMPRESSION_NONE, b.getCompression());
        assertEquals(N * GuestMemory.PAGE_SIZE, b.getData().size());
    }

    @Test
    void anLz4BatchThatLiesAboutItsSizeOrIsDamagedIsRefusedAndWritesNothing() {
        oneWordPages();
        PageBatch b = BatchCodec.encode(source, pages, 0, N, 0, 0, true);
        byte[] before = read(target);
        IllegalArgumentException lie = assertThrows(IllegalArgumentException.class,
                () -> BatchCodec.verifyAndApply(b.toBuilder().setRawLength(1 << 30).build(), target));
        assertTrue(lie.getMessage().contains("says its LZ4 data holds 1073741824 bytes for 64 non-zero pages"),
                lie.getMessage());
        byte[] damaged = b.getData().toByteArray();
        damaged[damaged.length / 2] ^= 0x55;
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> BatchCodec.verifyAndApply(b.toBuilder().setData(ByteString.copyFrom(damaged)).build(), target));
        assertTrue(bad.getMessage().contains("LZ4") || bad.getMessage().contains("CRC32C"), bad.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> BatchCodec.verifyAndApply(b.toBuilder().setCompressionValue(9).build(), target));
        assertTrue(unknown.getMessage().contains("unknown compression 9"), unknown.getMessage());
        assertArrayEquals(before, read(target));
    }
}
