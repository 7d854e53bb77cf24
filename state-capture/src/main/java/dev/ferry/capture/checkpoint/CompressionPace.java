package dev.ferry.capture.checkpoint;

/**
 * The {@link Compression#ADAPTIVE} choice for one block: compress it when that costs less time than it saves.
 * Compressing costs a thread's time per guest byte, shared by the compressing threads; it saves the bytes LZ4
 * removes (at the ratio seen so far), each worth the writer's time per byte plus the final sync's. So where
 * compression is slower than the disk it would relieve, blocks are stored raw, and the writer does not wait for it.
 *
 * <p>Compression is measured in this write (wall time, so threads sharing the processors count): the first blocks
 * are compressed, and after that one block in {@value #PROBE_EVERY} whatever the rates say, to keep measuring.
 * The writer's time per byte is measured in this write once its buffer has been flushed (before that, writing is
 * only copying); until then it comes from the writer's previous file ({@link DiskPace}), and without one every
 * block is compressed, so a first checkpoint smaller than the buffer is compressed whole. The sync's time per byte
 * always comes from the previous file ({@code 0} without one): a write sees its own sync only at the end.
 * Not thread-safe: the pipeline calls it under its lock.
 */
final class CompressionPace {
    static final int PROBE_EVERY = 64;

    private final int threads;
    private final DiskPace previous;
    private long decisions;
    private long compressedRaw;
    private long compressedStored;
    private long compressNanos;
    private long writtenBytes;
    private long writeNanos;
    private boolean writerFlushed;

    CompressionPace(int threads, DiskPace previous) {
        this.threads = threads;
        this.previous = previous;
    }

    /** Whether the next block should be compressed. */
    boolean worthCompressing() {
        decisions++;
        if (compressedRaw == 0 || !(writerFlushed || previous.isKnown()) || decisions % PROBE_EVERY == 0) {
            return true;
        }
        double cost = (double) compressNanos / compressedRaw / threads;
        double saved = (1 - (double) compressedStored / compressedRaw)
                * (writeNanosPerByte() + previous.syncNanosPerByte());
        return cost <= saved;
    }

    /** The writer's time per file byte in this write, or the previous file's until its buffer has been flushed. */
    double writeNanosPerByte() {
        return writerFlushed ? (double) writeNanos / writtenBytes : previous.writeNanosPerByte();
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
