package dev.ferry.host.migration;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.ferry.protocol.v1.PageBatch;
import dev.ferry.protocol.v1.PageCompression;
import dev.ferry.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Builds page batches from guest RAM and applies verified ones to guest RAM. A batch holds at most
 * {@link #MAX_PAGES} pages in ascending order; all-zero pages travel as a bit, not as 4 KiB. When the destination
 * reads LZ4, the non-zero pages travel as one LZ4 block if that saves at least a quarter (pages that are mostly zero,
 * or text, say). The checksum covers the page numbers, the zero bitmap and the data as sent; it is checked before
 * anything is decoded or written.
 */
public final class BatchCodec {
    public static final int MAX_PAGES = 64;
    public static final int MAX_FRAME = MAX_PAGES * GuestMemory.PAGE_SIZE + 4096;

    /**
     * Fault injection for tests of the hostile path: {@code -Dferry.fault.corrupt-batch=N} flips one data byte of the
     * N-th batch this process sends (after its checksum was computed).
     */
    private static final long CORRUPT_BATCH = Long.getLong("ferry.fault.corrupt-batch", -1);
    private static final java.util.concurrent.atomic.AtomicLong ENCODED = new java.util.concurrent.atomic.AtomicLong();

    private static final byte[] ZERO_PAGE = new byte[GuestMemory.PAGE_SIZE];
    private static final LZ4Factory LZ4 = LZ4Factory.fastestInstance();
    private static final LZ4Compressor COMPRESSOR = LZ4.fastCompressor();
    private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4.safeDecompressor();
    private static final ThreadLocal<byte[]> RAW = ThreadLocal.withInitial(() -> new byte[MAX_PAGES * GuestMemory.PAGE_SIZE]);
    /** The sender's scratch: pages as read, and their LZ4 form; a batch keeps a right-sized copy of what it sends. */
    private static final ThreadLocal<byte[]> READ = ThreadLocal.withInitial(() -> new byte[MAX_PAGES * GuestMemory.PAGE_SIZE]);
    private static final ThreadLocal<byte[]> PACKED = ThreadLocal.withInitial(
            () -> new byte[COMPRESSOR.maxCompressedLength(MAX_PAGES * GuestMemory.PAGE_SIZE)]);

    private BatchCodec() {}

    /**
     * Whether this build's sender compresses pages (when the destination reads LZ4): {@code -Dferry.migration.compression}
     * is {@code lz4} (the default) or {@code none}.
     */
    public static boolean compressionWanted() {
        return !"none".equals(System.getProperty("ferry.migration.compression", "lz4"));
    }

    /** Whether {@code batch}'s zero bitmap marks its {@code i}-th page all zero (it then carries no data). */
    private static boolean isZeroPage(PageBatch batch, int i) {
        return (batch.getZero().byteAt(i >> 3) & (1 << (i & 7))) != 0;
    }

    /** The number of non-zero pages {@code batch} carries (the zero bits it does not have set). */
    static int dataPages(PageBatch batch) {
        int n = batch.getPagesCount();
        int zero = 0;
        for (int i = 0; i < n; i++) {
            if (isZeroPage(batch, i)) {
                zero++;
            }
        }
        return n - zero;
    }

    /** As {@link #encode(GuestMemory, long[], int, int, long, int, boolean)}, raw pages. */
    public static PageBatch encode(GuestMemory memory, long[] pages, int from, int count, long seq, int round) {
        return encode(memory, pages, from, count, seq, round, false);
    }

    /**
     * Reads {@code count} pages starting at {@code pages[from]} from {@code memory} into a batch: each page is read
     * once, straight into the batch's data, and dropped again if it turns out to be all zero. With {@code lz4}, the
     * data is one LZ4 block when that is at most three quarters of the raw size.
     */
    public static PageBatch encode(GuestMemory memory, long[] pages, int from, int count, long seq, int round,
                                   boolean lz4) {
        PageBatch.Builder b = PageBatch.newBuilder().setSeq(seq).setRound(round);
        for (int i = 0; i < count; i++) {
            b.addPages(pages[from + i]);
        }
        byte[] zero = new byte[(count + 7) / 8];
        ByteString zeroBytes = UnsafeByteOperations.unsafeWrap(zero);
        // pages are read into this thread's buffer; the batch gets a right-sized copy of what it sends (the LZ4 form
        // is usually far smaller), so no zeroed 256 KiB array is allocated per batch
        byte[] read = READ.get();
        ByteBuffer data = ByteBuffer.wrap(read, 0, count * GuestMemory.PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            int start = data.position();
            memory.readPage(pages[from + i], data);
            if (isZero(data, start)) {
                data.position(start);
                zero[i >> 3] |= (byte) (1 << (i & 7));
            }
        }
        int length = data.position();
        b.setZero(zeroBytes);
        boolean packed = false;
        if (lz4 && length > 0) {
            byte[] out = PACKED.get();
            int n = COMPRESSOR.compress(read, 0, length, out, 0, out.length);
            if (n <= length / 4 * 3) {
                b.setData(UnsafeByteOperations.unsafeWrap(java.util.Arrays.copyOf(out, n)))
                        .setCompression(PageCompression.PAGE_COMPRESSION_LZ4).setRawLength(length);
                packed = true;
            }
        }
        if (!packed) {
            b.setData(UnsafeByteOperations.unsafeWrap(java.util.Arrays.copyOf(read, length)));
        }
        b.setCrc32C((int) crc(count, b::getPages, zeroBytes, b.getData()));
        if (ENCODED.getAndIncrement() == CORRUPT_BATCH && !b.getData().isEmpty()) {
            byte[] bad = b.getData().toByteArray();
            bad[bad.length / 2] ^= 0x40;
            b.setData(ByteString.copyFrom(bad));
        }
        return b.build();
    }

    /**
     * In the first round the destination's RAM is fresh: each run of consecutive non-zero pages is allocated in one
     * call rather than one page fault per page.
     */
    private static void populateRuns(PageBatch batch, GuestMemory memory) {
        int n = batch.getPagesCount();
        long runStart = -1;
        long runEnd = -1;
        for (int i = 0; i < n; i++) {
            if (isZeroPage(batch, i)) {
                continue;
            }
            long p = batch.getPages(i);
            if (p == runEnd) {
                runEnd++;
                continue;
            }
            if (runStart >= 0) {
                memory.populate(runStart, runEnd - runStart);
            }
            runStart = p;
            runEnd = p + 1;
        }
        if (runStart >= 0) {
            memory.populate(runStart, runEnd - runStart);
        }
    }

    /**
     * The raw pages of {@code batch}, which must be {@code expected} bytes: its data as it is, or decompressed (into a
     * buffer of this thread's, bounded by the largest batch) when it is LZ4.
     */
    private static ByteString rawData(PageBatch batch, int expected) {
        switch (batch.getCompression()) {
            case PAGE_COMPRESSION_NONE -> {
                if (batch.getData().size() != expected) {
                    throw new IllegalArgumentException("batch " + batch.getSeq() + " carries " + batch.getData().size()
                            + " data bytes for " + expected / GuestMemory.PAGE_SIZE + " non-zero pages");
                }
                return batch.getData();
            }
            case PAGE_COMPRESSION_LZ4 -> {
                if (batch.getRawLength() != expected) {
                    throw new IllegalArgumentException("batch " + batch.getSeq() + " says its LZ4 data holds "
                            + Integer.toUnsignedString(batch.getRawLength()) + " bytes for "
                            + expected / GuestMemory.PAGE_SIZE + " non-zero pages");
                }
                byte[] raw = RAW.get();
                byte[] packed = batch.getData().toByteArray();
                int n;
                try {
                    n = DECOMPRESSOR.decompress(packed, 0, packed.length, raw, 0, expected);
                } catch (LZ4Exception e) {
                    throw new IllegalArgumentException("batch " + batch.getSeq() + " has damaged LZ4 data: " + e.getMessage());
                }
                if (n != expected) {
                    throw new IllegalArgumentException("batch " + batch.getSeq() + " LZ4 data holds " + n + " bytes, not "
                            + expected);
                }
                return UnsafeByteOperations.unsafeWrap(raw, 0, n);
            }
            default -> throw new IllegalArgumentException("batch " + batch.getSeq() + " uses unknown compression "
                    + batch.getCompressionValue());
        }
    }

    private static boolean isZero(ByteBuffer page, int start) {
        return java.util.Arrays.mismatch(page.array(), start, start + GuestMemory.PAGE_SIZE, ZERO_PAGE, 0,
                GuestMemory.PAGE_SIZE) < 0;
    }

    static long crc(int count, java.util.function.IntToLongFunction page, ByteString zero, ByteString data) {
        CRC32C crc = new CRC32C();
        ByteBuffer num = ByteBuffer.allocate(8 * count).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            num.putLong(page.applyAsLong(i));
        }
        crc.update(num.flip());
        crc.update(zero.asReadOnlyByteBuffer());
        crc.update(data.asReadOnlyByteBuffer());
        return crc.getValue();
    }

    /**
     * Verifies {@code batch} completely (page numbers, the checksum over what was sent, then sizes and its LZ4 data,
     * decoded into a buffer of this thread's) and only then writes it into {@code memory}. Returns the number of
     * pages applied; throws {@link IllegalArgumentException} naming the defect.
     */
    public static int verifyAndApply(PageBatch batch, GuestMemory memory) {
        int n = batch.getPagesCount();
        if (n == 0 || n > MAX_PAGES) {
            throw new IllegalArgumentException("batch " + batch.getSeq() + " has " + n + " pages; 1 to " + MAX_PAGES + " allowed");
        }
        if (batch.getZero().size() != (n + 7) / 8) {
            throw new IllegalArgumentException("batch " + batch.getSeq() + " zero bitmap is " + batch.getZero().size() + " bytes");
        }
        int nonZero = 0;
        long previous = -1;
        for (int i = 0; i < n; i++) {
            long p = batch.getPages(i);
            if (p <= previous || p >= memory.pageCount()) {
                throw new IllegalArgumentException("batch " + batch.getSeq() + " names page " + p + " (RAM has "
                        + memory.pageCount() + " pages; pages must ascend)");
            }
            previous = p;
            if (!isZeroPage(batch, i)) {
                nonZero++;
            }
        }
        if ((int) crc(n, batch::getPages, batch.getZero(), batch.getData()) != batch.getCrc32C()) {
            throw new IllegalArgumentException("batch " + batch.getSeq() + " fails its CRC32C checksum");
        }
        ByteString raw = rawData(batch, nonZero * GuestMemory.PAGE_SIZE);
        if (batch.getRound() == 0) {
            populateRuns(batch, memory);
        }
        ByteBuffer data = raw.asReadOnlyByteBuffer();
        ByteBuffer zeros = null;
        for (int i = 0; i < n; i++) {
            long p = batch.getPages(i);
            if (isZeroPage(batch, i)) {
                if (batch.getRound() > 0) {
                    if (zeros == null) {
                        zeros = ByteBuffer.allocate(GuestMemory.PAGE_SIZE);
                    }
                    zeros.clear();
                    memory.writePage(p, zeros);
                }
            } else {
                memory.writePage(p, data);
            }
        }
        return n;
    }
}
