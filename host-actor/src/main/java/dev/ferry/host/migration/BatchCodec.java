package dev.ferry.host.migration;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.ferry.protocol.v1.PageBatch;
import dev.ferry.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Builds page batches from guest RAM and applies verified ones to guest RAM. A batch holds at most
 * {@link #MAX_PAGES} pages in ascending order; all-zero pages travel as a bit, not as 4 KiB.
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

    private BatchCodec() {}

    /**
     * Reads {@code count} pages starting at {@code pages[from]} from {@code memory} into a batch: each page is read
     * once, straight into the batch's data, and dropped again if it turns out to be all zero.
     */
    public static PageBatch encode(GuestMemory memory, long[] pages, int from, int count, long seq, int round) {
        ByteBuffer data = ByteBuffer.allocate(count * GuestMemory.PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        byte[] zero = new byte[(count + 7) / 8];
        PageBatch.Builder b = PageBatch.newBuilder().setSeq(seq).setRound(round);
        for (int i = 0; i < count; i++) {
            long p = pages[from + i];
            b.addPages(p);
            int start = data.position();
            memory.readPage(p, data);
            if (isZero(data, start)) {
                data.position(start);
                zero[i >> 3] |= (byte) (1 << (i & 7));
            }
        }
        data.flip();
        ByteString dataBytes = UnsafeByteOperations.unsafeWrap(data.array(), 0, data.limit());
        ByteString zeroBytes = UnsafeByteOperations.unsafeWrap(zero);
        b.setZero(zeroBytes).setData(dataBytes);
        b.setCrc32C((int) crc(count, b::getPages, zeroBytes, dataBytes));
        if (ENCODED.getAndIncrement() == CORRUPT_BATCH && data.limit() > 0) {
            byte[] bad = java.util.Arrays.copyOf(data.array(), data.limit());
            bad[bad.length / 2] ^= 0x40;
            b.setData(ByteString.copyFrom(bad));
        }
        return b.build();
    }

    private static boolean isZero(ByteBuffer page, int start) {
        for (int i = start; i < start + GuestMemory.PAGE_SIZE; i += 8) {
            if (page.getLong(i) != 0) {
                return false;
            }
        }
        return true;
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
     * Verifies {@code batch} completely (checksum, page numbers, sizes) and only then writes it into {@code memory}.
     * Returns the number of pages applied; throws {@link IllegalArgumentException} naming the defect.
     */
    public static int verifyAndApply(PageBatch batch, GuestMemory memory) {
        int n = batch.getPagesCount();
        if (n == 0 || n > MAX_PAGES) {
            throw new IllegalArgumentException("batch " + batch.getSeq() + " has " + n + " pages; 1 to " + MAX_PAGES + " allowed");
        }
        if (batch.getZero().size() != (n + 7) / 8) {
            throw new IllegalArgumentException("batch " + batch.getSeq() + " zero bitmap is " + batch.getZero().size() + " bytes");
        }
        if ((int) crc(n, batch::getPages, batch.getZero(), batch.getData()) != batch.getCrc32C()) {
            throw new IllegalArgumentException("batch " + batch.getSeq() + " fails its CRC32C checksum");
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
            if ((batch.getZero().byteAt(i >> 3) & (1 << (i & 7))) == 0) {
                nonZero++;
            }
        }
        if (batch.getData().size() != nonZero * GuestMemory.PAGE_SIZE) {
            throw new IllegalArgumentException("batch " + batch.getSeq() + " carries " + batch.getData().size()
                    + " data bytes for " + nonZero + " non-zero pages");
        }
        ByteBuffer data = batch.getData().asReadOnlyByteBuffer();
        ByteBuffer zeros = null;
        for (int i = 0; i < n; i++) {
            long p = batch.getPages(i);
            if ((batch.getZero().byteAt(i >> 3) & (1 << (i & 7))) != 0) {
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
