package dev.ferry.capture.checkpoint;

/**
 * How a {@link CheckpointWriter} stores blocks of guest memory. Every policy writes the same format: a block is
 * LZ4 (encoding 1) only when that is smaller than its raw data, raw (encoding 0) otherwise.
 */
public enum Compression {
    /** Tries LZ4 on every block: the smallest file, and the same bytes for the same memory on every run. */
    ALWAYS,
    /**
     * Tries LZ4 on a block when compressing (spread over the compressing threads) takes less time than writing and
     * syncing the bytes it removes, and stores it raw otherwise, so a disk faster than compression does not wait
     * for it. The rates are measured while writing (see {@code CompressionPace}); a checkpoint smaller than the
     * write buffer is compressed whole. The bytes of the file depend on timing.
     */
    ADAPTIVE,
    /** Stores every block raw. */
    NEVER
}
