package dev.ferry.capture.checkpoint;

import java.nio.ByteBuffer;

/**
 * The 24 bytes that open each block of a MEMORY section: the window's first page (u64), its span in pages
 * (u16, 1 to 256), how many of its pages the block holds (u16), the data's encoding (u8: 0 raw, 1 LZ4 block),
 * three reserved zero bytes, the stored data's length (u32), and a CRC32C over the 20 header bytes before it,
 * the two bitmaps and the stored data. After the header come two bitmaps of {@code ceil(span / 64)}
 * little-endian u64 words each (pages present; of those, pages that are all zero and carry no data), then the
 * data: the non-zero present pages, in ascending order, 4 KiB each before encoding.
 */
record BlockHeader(long firstPage, int span, int presentCount, int encoding, int storedLength, int crc) {
    static final int BYTES = 24;
    static final int RAW = 0;
    static final int LZ4 = 1;

    static int bitmapWords(int span) {
        return (span + 63) >>> 6;
    }

    int bitmapWords() {
        return bitmapWords(span);
    }

    /** Writes the header into {@code b} at 0 (the CRC last: computed over the block by the caller). */
    void writeTo(ByteBuffer b) {
        b.putLong(0, firstPage).putShort(8, (short) span).putShort(10, (short) presentCount)
                .put(12, (byte) encoding).put(13, (byte) 0).putShort(14, (short) 0)
                .putInt(16, storedLength).putInt(20, crc);
    }

    /** Reads a header; reserved bytes must be zero ({@link IllegalArgumentException} otherwise). */
    static BlockHeader readFrom(ByteBuffer b) {
        if (b.get(13) != 0 || b.getShort(14) != 0) {
            throw new IllegalArgumentException("reserved header bytes are not zero");
        }
        return new BlockHeader(b.getLong(0), Short.toUnsignedInt(b.getShort(8)), Short.toUnsignedInt(b.getShort(10)),
                Byte.toUnsignedInt(b.get(12)), b.getInt(16), b.getInt(20));
    }
}
