package dev.ferry.capture.checkpoint;

/**
 * What a {@link CheckpointWriter} learned of its disk from its previous large file: the writer thread's time per
 * file byte (copies into the write buffer and flushes to the file) and the final sync's. {@link #UNKNOWN} (zeros)
 * before the first. {@link Compression#ADAPTIVE} weighs compressing a block against these.
 */
record DiskPace(double writeNanosPerByte, double syncNanosPerByte) {
    static final DiskPace UNKNOWN = new DiskPace(0, 0);

    boolean isKnown() {
        return writeNanosPerByte > 0;
    }
}
