package dev.ferry.vmm.devices.virtio.blk;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What a virtio-blk device reads and writes: a byte-addressed store of {@link #capacity()} bytes, a whole number of
 * 512-byte sectors. A local image file is one; a disk streamed from a remote image is another.
 */
public interface BlockStore extends AutoCloseable {
    long capacity();

    /** Fills {@code dst} (position to limit) from {@code offset}; throws rather than returning short. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes {@code src} (position to limit) at {@code offset}. */
    void write(long offset, ByteBuffer src) throws IOException;

    /** Makes every completed write durable. */
    void flush() throws IOException;

    /** A short name the guest may ask for (virtio-blk GET_ID, at most 20 bytes are used). */
    String id();

    @Override
    void close() throws IOException;
}
