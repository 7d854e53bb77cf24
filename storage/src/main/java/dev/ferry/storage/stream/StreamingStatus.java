package dev.ferry.storage.stream;

/**
 * A snapshot of a streaming disk's progress. {@code message} is what an operator reads: {@code "streaming"},
 * {@code "complete"}, {@code "image server unreachable: ..."} while the source is away, or the local failure.
 * {@code bytesCopied} counts the image bytes made local (the image rate); of them, {@code wireBytes} crossed the
 * network as data (the wire rate) and {@code holeBytes} did not, the source having said they read as zeros.
 */
public record StreamingStatus(Phase phase, String message, long blocksLocal, long blocksTotal, int blockSize,
                              long bytesCopied, double copyRateBytesPerSecond, long guestReads, long guestWrites,
                              long guestFetches, long remoteRetries, long wireBytes, long holeBytes,
                              double wireRateBytesPerSecond) {
    public enum Phase {
        /** Blocks are still being copied. */
        STREAMING,
        /** Every block is local: the remote is no longer needed. */
        COMPLETE,
        /** A local error (a full disk, an I/O error) stopped the disk; guest I/O fails with the same message. */
        FAILED,
        CLOSED
    }

    /** Whether the source could not be reached at the last attempt (the disk keeps retrying). */
    public boolean remoteUnreachable() {
        return message.startsWith(StreamingDisk.UNREACHABLE);
    }

    public double fractionLocal() {
        return blocksTotal == 0 ? 1.0 : (double) blocksLocal / blocksTotal;
    }
}
