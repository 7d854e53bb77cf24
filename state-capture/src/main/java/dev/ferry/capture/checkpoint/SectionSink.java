package dev.ferry.capture.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Writes the frame of a checkpoint file (header, sections, footer) to a channel through one large buffer.
 * A section whose length is not known in advance (MEMORY) is opened with {@link #begin}, streamed with
 * {@link #put}, and closed with {@link #end}, which fills in its header in the buffer or, if already flushed, in
 * place. Used by one thread at a time.
 */
final class SectionSink {
    private final FileChannel channel;
    private final ByteBuffer buffer;
    private final CRC32C crc = new CRC32C();
    private long position;
    private boolean flushed;
    private int sections;
    private long sectionStart = -1;
    private int sectionType;
    private int sectionFlags;

    SectionSink(FileChannel channel, int bufferSize) {
        this.channel = channel;
        this.buffer = ByteBuffer.allocateDirect(bufferSize);
    }

    void fileHeader(FormatVersion version) throws IOException {
        byte[] h = new FileHeader(version, 0).encode();
        raw(h, 0, h.length);
    }

    /** A whole section. */
    void section(SectionType type, int flags, byte[] payload) throws IOException {
        section(type.code(), flags, payload);
    }

    void section(int type, int flags, byte[] payload) throws IOException {
        begin(type, flags);
        put(payload, 0, payload.length);
        end();
    }

    void begin(int type, int flags) throws IOException {
        if (sectionStart >= 0) {
            throw new IllegalStateException("section #" + sections + " is still open");
        }
        sectionStart = position;
        sectionType = type;
        sectionFlags = flags;
        crc.reset();
        raw(new byte[SectionHeader.BYTES], 0, SectionHeader.BYTES);
    }

    void put(byte[] b, int off, int len) throws IOException {
        crc.update(b, off, len);
        raw(b, off, len);
    }

    void end() throws IOException {
        long length = position - sectionStart - SectionHeader.BYTES;
        byte[] h = new SectionHeader(sectionType, sectionFlags, sections, length, (int) crc.getValue()).encode();
        long buffered = position - buffer.position();
        if (sectionStart >= buffered) {
            buffer.put((int) (sectionStart - buffered), h);
        } else {
            flush();
            ByteBuffer hb = ByteBuffer.wrap(h);
            long at = sectionStart;
            while (hb.hasRemaining()) {
                at += channel.write(hb, at);
            }
        }
        sections++;
        sectionStart = -1;
    }

    /** Writes the footer and flushes; returns the file's length. */
    long finish() throws IOException {
        byte[] f = new FileFooter(position + FileFooter.BYTES, sections).encode();
        raw(f, 0, f.length);
        flush();
        return position;
    }

    private void raw(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            if (!buffer.hasRemaining()) {
                flush();
            }
            int n = Math.min(len, buffer.remaining());
            buffer.put(b, off, n);
            off += n;
            len -= n;
            position += n;
        }
    }

    /** Whether bytes have gone from the buffer to the channel yet. */
    boolean hasFlushed() {
        return flushed;
    }

    private void flush() throws IOException {
        flushed = true;
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }
}
