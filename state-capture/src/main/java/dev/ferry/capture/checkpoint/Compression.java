package dev.ferry.capture.checkpoint;

/**
 * How a {@link CheckpointWriter} stores blocks of guest memory. Every policy writes the same format: a block is
 * LZ4 (encoding 1) only when that is smaller than its raw data, raw (encoding 0) otherwise.
 */
public enum Compression {
    /** Tries LZ4 on every block: the smallest file, and the same bytes for the same memory on every run. */
    ALWAYS,
    /**
     * Tries LZ4 on a block only while compressing it takes no longer than the writer needs for the blocks queued
     * ahead of it, so the writer does not wait for compression; otherwise stores it raw. Both rates are measured
     * during the write (see {@code CompressionPace}). The bytes of the file depend on timing.
     */
    ADAPTIVE,
    /** Stores every block raw. */
    NEVER
}
