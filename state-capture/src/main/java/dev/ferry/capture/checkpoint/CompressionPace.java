package dev.ferry.capture.checkpoint;

/**
 * The {@link Compression#ADAPTIVE} choice for one block: compress it when that costs less time than it saves.
 * Compressing costs a thread's time per guest byte, shared by the compressing threads; it saves the bytes LZ4
 * removes (at the ratio seen so far), each worth the writer's time per byte plus the final sync's. So where
 * compression is slower than the disk it would relieve, blocks are stored raw, and the writer does not wait for it.
 *
 * <p>The compressing and writing rates are measured in this write: wall time, so threads sharing the processors
 * count. Until a block has been compressed and the write buffer has been flushed once (before that, writing is only
 * copying), every block is compressed, so a checkpoint smaller than the buffer is compressed whole; after that
 * one block in {@value #PROBE_EVERY} is compressed whatever the rates say, to keep measuring them. The sync's time
 * per byte comes from the writer's previous file ({@code 0} without one), as a write sees its own sync only at the
 * end. Not thread-safe: the pipeline calls it under its lock.
 */
final class CompressionPace {
    static final int PROBE_EVERY = 32;

    private final int threads;
    private final double syncNanosPerByte;
    private long decisions;
    private long compressedRaw;
    private long compressedStored;
    private long compressNanos;
    private long writtenBytes;
    private long writeNanos;
    private boolean writerFlushed;

    CompressionPace(int threads, double syncNanosPerByte) {
        this.threads = threads;
        this.syncNanosPerByte = syncNanosPerByte;
    }

    /** Whether the next block should be compressed. */
    boolean worthCompressing() {
        decisions++;
        if (compressedRaw == 0 || !writerFlushed || decisions % PROBE_EVERY == 0) {
            return true;
        }
        double cost = (double) compressNanos / compressedRaw / threads;
        double saved = (1 - (double) compressedStored / compressedRaw)
                * ((double) writeNanos / writtenBytes + syncNanosPerByte);
        return cost <= saved;
    }

    /** A block of {@code dataBytes} was compressed to {@code storedBytes} (raw if LZ4 was no smaller) in {@code nanos}. */
    void compressed(int dataBytes, int storedBytes, long nanos) {
        compressedRaw += dataBytes;
        compressedStored += storedBytes;
        compressNanos += nanos;
    }

    /** The writer wrote {@code fileBytes} in {@code nanos}; {@code flushed} once its buffer has gone to the file. */
    void written(int fileBytes, long nanos, boolean flushed) {
        writtenBytes += fileBytes;
        writeNanos += nanos;
        writerFlushed |= flushed;
    }
}
