package dev.ferry.capture.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Reads one section's payload sequentially through a buffer, never past its end, and keeps the CRC32C of
 * every byte read. Callers check {@link #remaining()} before each read; the file shrinking under the reader
 * is reported as such.
 */
final class SectionInput {
    private final Path file;
    private final FileChannel channel;
    private final long end;
    private final byte[] buffer;
    private final CRC32C crc = new CRC32C();
    private long filePosition;
    private int bufferPosition;
    private int bufferLimit;

    SectionInput(Path file, FileChannel channel, long start, long length, int bufferSize) {
        this.file = file;
        this.channel = channel;
        this.end = start + length;
        this.filePosition = start;
        this.buffer = new byte[(int) Math.max(1, Math.min(bufferSize, length))];
    }

    /** The file offset of the next byte to read. */
    long position() {
        return filePosition - (bufferLimit - bufferPosition);
    }

    long remaining() {
        return end - position();
    }

    int crc() {
        return (int) crc.getValue();
    }

    void readFully(byte[] dst, int off, int len) throws IOException {
        if (len > remaining()) {
            throw new IllegalStateException("read of " + len + " bytes with " + remaining() + " left in the section");
        }
        int start = off;
        int total = len;
        while (len > 0) {
            if (bufferPosition == bufferLimit) {
                if (len >= buffer.length) {
                    readAt(dst, off, len);
                    off += len;
                    len = 0;
                    break;
                }
                fill();
            }
            int n = Math.min(len, bufferLimit - bufferPosition);
            System.arraycopy(buffer, bufferPosition, dst, off, n);
            bufferPosition += n;
            off += n;
            len -= n;
        }
        crc.update(dst, start, total);
    }

    /** Reads and discards {@code len} bytes (counting them in the CRC). */
    void skip(long len) throws IOException {
        byte[] scratch = new byte[(int) Math.min(len, 1 << 20)];
        while (len > 0) {
            int n = (int) Math.min(len, scratch.length);
            readFully(scratch, 0, n);
            len -= n;
        }
    }

    private void fill() throws IOException {
        int n = (int) Math.min(buffer.length, end - filePosition);
        readAt(buffer, 0, n);
        bufferPosition = 0;
        bufferLimit = n;
    }

    private void readAt(byte[] dst, int off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(dst, off, len);
        while (b.hasRemaining()) {
            int n = channel.read(b, filePosition);
            if (n < 0) {
                throw CheckpointFormatException.shrank(file, filePosition);
            }
            filePosition += n;
        }
    }

    /** Reads {@code len} bytes at {@code offset} of {@code channel} (outside any section). */
    static byte[] readAt(Path file, FileChannel channel, long offset, int len) throws IOException {
        byte[] b = new byte[len];
        ByteBuffer bb = ByteBuffer.wrap(b);
        long at = offset;
        while (bb.hasRemaining()) {
            int n = channel.read(bb, at);
            if (n < 0) {
                throw CheckpointFormatException.shrank(file, at);
            }
            at += n;
        }
        return b;
    }
}
