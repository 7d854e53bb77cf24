package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;

/**
 * One MEMORY block on its way through the {@link MemoryWritePipeline}: the walking thread reads pages from guest
 * memory straight into {@code raw}, a compressing thread seals it (LZ4, or raw where that is no smaller or not
 * wanted; header, bitmaps, CRC32C), the writer thread writes it, and the buffer is reused. Its sequence number
 * keeps the blocks in page order. Nothing is allocated per page.
 */
final class BlockBuffer {
    static final int PAGE = GuestMemory.PAGE_SIZE;
    static final byte[] ZERO_PAGE = new byte[PAGE];
    private static final int WORDS = BlockHeader.bitmapWords(MemoryPreamble.MAX_BLOCK_PAGES);

    private final byte[] raw;
    private final ByteBuffer rawView;
    private final byte[] packed;
    private final byte[] head = new byte[BlockHeader.BYTES + 2 * WORDS * Long.BYTES];
    private final ByteBuffer headView = Le.wrap(head);
    private final long[] present = new long[WORDS];
    private final long[] zero = new long[WORDS];
    private final CRC32C crc = new CRC32C();

    private long sequence;
    private long firstPage;
    private int lastSlot;
    private int presentCount;
    private int zeroCount;
    private int dataPages;
    private int encoding;
    private int storedLength;
    private int headLength;

    BlockBuffer(LZ4Compressor compressor) {
        this(MemoryPreamble.MAX_BLOCK_PAGES * PAGE, compressor.maxCompressedLength(MemoryPreamble.MAX_BLOCK_PAGES * PAGE));
    }

    private BlockBuffer(int rawCapacity, int packedCapacity) {
        raw = new byte[rawCapacity];
        rawView = ByteBuffer.wrap(raw);
        packed = new byte[packedCapacity];
    }

    /** A buffer that holds nothing, to mark the end of a queue of blocks. */
    static BlockBuffer marker() {
        return new BlockBuffer(0, 0);
    }

    void start(long page) {
        sequence = -1;
        firstPage = page;
        lastSlot = -1;
        presentCount = 0;
        zeroCount = 0;
        dataPages = 0;
        Arrays.fill(present, 0);
        Arrays.fill(zero, 0);
    }

    boolean accepts(long page) {
        return page - firstPage < MemoryPreamble.MAX_BLOCK_PAGES;
    }

    /** Reads {@code page} into the block; an all-zero page is kept as a zero page or, if not {@code keepZero}, dropped. */
    void add(GuestMemory memory, long page, boolean keepZero) {
        int slot = (int) (page - firstPage);
        int off = dataPages * PAGE;
        rawView.position(off);
        memory.readPage(page, rawView);
        if (Arrays.mismatch(raw, off, off + PAGE, ZERO_PAGE, 0, PAGE) < 0) {
            if (!keepZero) {
                return;
            }
            zero[slot >>> 6] |= 1L << slot;
            zeroCount++;
        } else {
            dataPages++;
        }
        present[slot >>> 6] |= 1L << slot;
        presentCount++;
        lastSlot = slot;
    }

    boolean isEmpty() {
        return presentCount == 0;
    }

    /** The block's place in the section: 0 for the first block, then one more for each. */
    long sequence() {
        return sequence;
    }

    void sequence(long s) {
        sequence = s;
    }

    /** Guest bytes of the pages that carry data (before encoding). */
    int dataBytes() {
        return dataPages * PAGE;
    }

    /**
     * Compresses the data if {@code tryLz4} (keeping it only if smaller), fills in header and bitmaps, and
     * checksums the block.
     */
    void seal(LZ4Compressor compressor, boolean tryLz4) {
        int rawLength = dataPages * PAGE;
        int n = rawLength == 0 || !tryLz4 ? rawLength : compressor.compress(raw, 0, rawLength, packed, 0,
                packed.length);
        encoding = n < rawLength ? BlockHeader.LZ4 : BlockHeader.RAW;
        storedLength = encoding == BlockHeader.LZ4 ? n : rawLength;
        int span = lastSlot + 1;
        int words = BlockHeader.bitmapWords(span);
        for (int i = 0; i < words; i++) {
            headView.putLong(BlockHeader.BYTES + i * Long.BYTES, present[i]);
            headView.putLong(BlockHeader.BYTES + (words + i) * Long.BYTES, zero[i]);
        }
        headLength = BlockHeader.BYTES + 2 * words * Long.BYTES;
        new BlockHeader(firstPage, span, presentCount, encoding, storedLength, 0).writeTo(headView);
        crc.reset();
        crc.update(head, 0, 20);
        crc.update(head, BlockHeader.BYTES, headLength - BlockHeader.BYTES);
        crc.update(data(), 0, storedLength);
        headView.putInt(20, (int) crc.getValue());
    }

    private byte[] data() {
        return encoding == BlockHeader.LZ4 ? packed : raw;
    }

    void writeTo(SectionSink sink) throws IOException {
        sink.put(head, 0, headLength);
        sink.put(data(), 0, storedLength);
    }

    int presentCount() {
        return presentCount;
    }

    int zeroCount() {
        return zeroCount;
    }

    /** Bytes this block takes in the file. */
    int fileBytes() {
        return headLength + storedLength;
    }

    int storedLength() {
        return storedLength;
    }

    boolean isLz4() {
        return encoding == BlockHeader.LZ4;
    }
}
