package dev.ferry.capture.checkpoint;

/**
 * What a MEMORY section holds: blocks, pages present, of those how many are all zero (carrying no data), and
 * the data's size as stored and as guest bytes.
 */
public record MemoryStats(long blocks, long pages, long zeroPages, long storedBytes) {
    /** Pages that carry data. */
    public long dataPages() {
        return pages - zeroPages;
    }

    /** Guest bytes the data pages hold, before compression. */
    public long rawBytes() {
        return dataPages() * BlockBuffer.PAGE;
    }
}
