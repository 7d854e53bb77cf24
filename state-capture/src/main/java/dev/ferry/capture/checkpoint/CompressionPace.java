package dev.ferry.capture.checkpoint;

/**
 * The {@link Compression#ADAPTIVE} choice for one block: compress it only if that takes no longer than the writer
 * needs for what is ahead of it (blocks sealed and queued, and blocks still being compressed at the ratio seen so
 * far), so the writer does not wait for it. The rates are measured in this write: a compressing thread's time per
 * guest byte (wall time, so sharing the processors with the writer counts), and the writer's time per file byte
 * over its whole run (copies into the write buffer and the flushes to the file). Until a block has been
 * compressed, blocks are compressed. The final sync is not seen: where the page cache takes writes faster than the
 * disk, blocks are stored raw that a slower sync would have rewarded compressing. Not thread-safe: the pipeline
 * calls it under its lock.
 */
final class CompressionPace {
    private long compressedRaw;
    private long compressedStored;
    private long compressNanos;
    private long writtenBytes;
    private long writeNanos;
    private long queuedBytes;
    private long compressingRaw;

    /** Whether a block of {@code dataBytes} guest bytes, next in line behind what is ahead, should be compressed. */
    boolean worthCompressing(int dataBytes) {
        if (compressedRaw == 0 || writtenBytes == 0) {
            return true;
        }
        double compressTime = dataBytes * ((double) compressNanos / compressedRaw);
        double ahead = queuedBytes + compressingRaw * ((double) compressedStored / compressedRaw);
        double writeTime = ahead * ((double) writeNanos / writtenBytes);
        return compressTime <= writeTime;
    }

    /** A thread starts compressing a block of {@code dataBytes}. */
    void compressing(int dataBytes) {
        compressingRaw += dataBytes;
    }

    /** A block was sealed and queued for the writer: {@code fileBytes} in the file, compressed in {@code nanos}. */
    void sealed(boolean compressed, int dataBytes, int storedBytes, int fileBytes, long nanos) {
        if (compressed) {
            compressingRaw -= dataBytes;
            compressedRaw += dataBytes;
            compressedStored += storedBytes;
            compressNanos += nanos;
        }
        queuedBytes += fileBytes;
    }

    /** The writer took a block of {@code fileBytes} off the queue. */
    void taken(int fileBytes) {
        queuedBytes -= fileBytes;
    }

    /** The writer wrote {@code fileBytes} in {@code nanos}. */
    void written(int fileBytes, long nanos) {
        writtenBytes += fileBytes;
        writeNanos += nanos;
    }
}
