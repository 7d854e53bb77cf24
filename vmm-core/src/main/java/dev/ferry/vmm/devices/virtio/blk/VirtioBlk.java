package dev.ferry.vmm.devices.virtio.blk;

import dev.ferry.vmm.devices.virtio.DescriptorChain;
import dev.ferry.vmm.devices.virtio.VirtioBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A virtio block device (virtio 1.2, section 5.2) over a {@link BlockStore}: reads, writes, flush and GET_ID,
 * one request at a time, with one bounce buffer reused for every request.
 */
public final class VirtioBlk implements VirtioBackend {
    public static final int DEVICE_ID = 2;
    public static final int SECTOR = 512;
    public static final long F_FLUSH = 1L << 9;
    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;
    public static final byte S_OK = 0;
    public static final byte S_IOERR = 1;
    public static final byte S_UNSUPP = 2;
    private static final int QUEUE_MAX = 256;
    private static final int BUFFER = 1 << 20;
    private static final int ID_BYTES = 20;

    private static final Logger LOG = LoggerFactory.getLogger(VirtioBlk.class);
    /** I/O errors the guest was given; the first few, then every thousandth, are logged with their cause. */
    private long ioErrors;
    /** Swapped only while the VM is paused ({@link #replaceStore}); volatile so the I/O thread sees the swap. */
    private volatile BlockStore store;
    private final long capacitySectors;
    private final ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer data = ByteBuffer.allocateDirect(BUFFER);
    // One writer at a time (the thread serving the queue); volatile so progress reports from other threads see them.
    private volatile long reads;
    private volatile long writes;
    private volatile long flushes;

    /** A device over the disk image file {@code image}. */
    public VirtioBlk(Path image) {
        this(FileBlockStore.open(image));
    }

    public VirtioBlk(BlockStore store) {
        if (store.capacity() % SECTOR != 0) {
            throw new IllegalArgumentException("disk " + store.id() + " is " + store.capacity()
                    + " bytes, not a whole number of 512-byte sectors");
        }
        this.store = store;
        this.capacitySectors = store.capacity() / SECTOR;
    }

    public BlockStore store() {
        return store;
    }

    /**
     * Serves every later request from {@code next} instead of the current store, and returns the store it replaces
     * (the caller closes it). Call it only while the VM is paused, so no request is in flight: a streaming disk whose
     * blocks are all local hands over to a plain file this way, and the guest sees the same device and rings.
     */
    public BlockStore replaceStore(BlockStore next) {
        if (next.capacity() != capacitySectors * SECTOR) {
            throw new IllegalArgumentException("disk " + next.id() + " is " + next.capacity() + " bytes; the guest's disk "
                    + store.id() + " is " + capacitySectors * SECTOR);
        }
        BlockStore old = store;
        store = next;
        return old;
    }

    @Override
    public int deviceId() {
        return DEVICE_ID;
    }

    @Override
    public long features() {
        return F_FLUSH;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int queueMaxSize() {
        return QUEUE_MAX;
    }

    @Override
    public long readConfig(int offset, int width) {
        if (offset + width <= 8) {
            long v = capacitySectors >>> (8 * offset);
            return width == 8 ? v : v & ((1L << (8 * width)) - 1);
        }
        return 0;
    }

    @Override
    public int serve(int queue, DescriptorChain chain) {
        header.clear();
        if (!chain.read(header)) {
            throw new dev.ferry.vmm.devices.virtio.VirtioException("block request shorter than its 16-byte header");
        }
        int type = header.getInt(0);
        long sector = header.getLong(8);
        long payload = chain.writableLength() - 1;
        byte result;
        int written = 0;
        try {
            switch (type) {
                case T_IN -> {
                    result = transfer(sector, payload, true, chain);
                    written = result == S_OK ? (int) payload : 0;
                    reads++;
                }
                case T_OUT -> {
                    result = transfer(sector, chain.readableLength() - 16, false, chain);
                    writes++;
                }
                case T_FLUSH -> {
                    store.flush();
                    flushes++;
                    result = S_OK;
                }
                case T_GET_ID -> {
                    byte[] id = store.id().getBytes(StandardCharsets.US_ASCII);
                    ByteBuffer b = ByteBuffer.allocate((int) Math.min(ID_BYTES, Math.max(0, payload)));
                    b.put(id, 0, Math.min(id.length, b.capacity())).clear();
                    chain.write(b);
                    written = b.capacity();
                    result = S_OK;
                }
                default -> result = S_UNSUPP;
            }
        } catch (IOException e) {
            result = S_IOERR;
            if (++ioErrors <= 5 || ioErrors % 1000 == 0) {
                LOG.warn("disk {}: request type {} at sector {} answered I/O error ({} so far): {}", store.id(), type,
                        sector, ioErrors, e.toString());
            }
        }
        if (!chain.writeLastByte(result)) {
            throw new dev.ferry.vmm.devices.virtio.VirtioException("block request has no status byte");
        }
        return written + 1;
    }

    private byte transfer(long sector, long length, boolean toGuest, DescriptorChain chain) throws IOException {
        if (length < 0 || length % SECTOR != 0 || sector < 0 || sector + length / SECTOR > capacitySectors) {
            return S_IOERR;
        }
        long pos = sector * SECTOR;
        long left = length;
        while (left > 0) {
            int n = (int) Math.min(left, BUFFER);
            data.clear().limit(n);
            if (toGuest) {
                store.read(pos, data);
                data.flip();
                chain.write(data);
            } else {
                chain.read(data);
                data.flip();
                store.write(pos, data);
            }
            pos += n;
            left -= n;
        }
        return S_OK;
    }

    public long reads() {
        return reads;
    }

    public long writes() {
        return writes;
    }

    public long flushes() {
        return flushes;
    }

    @Override
    public void close() {
        try {
            store.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing disk " + store.id(), e);
        }
    }
}
