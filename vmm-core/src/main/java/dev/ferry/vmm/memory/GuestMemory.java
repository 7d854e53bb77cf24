package dev.ferry.vmm.memory;

import dev.ferry.vmm.kvm.HostMapping;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongConsumer;
import java.util.zip.CRC32C;

/**
 * Guest RAM: one shared memory file mapped once, split into {@link MemoryRegion}s around the MMIO hole.
 * Reads and writes by the VMM go through this class, which records every page it writes
 * (KVM's dirty log does not see them); {@link #drainVmmWrites} hands that record to the dirty log.
 */
public final class GuestMemory implements AutoCloseable {
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    private static final int CHUNK_SHIFT = 30;
    private static final long CHUNK_MASK = (1L << CHUNK_SHIFT) - 1;

    private static final ByteBuffer ZERO_PAGE = ByteBuffer.allocateDirect(PAGE_SIZE).asReadOnlyBuffer();
    private final HostMapping mapping;
    private volatile boolean populateWorks = true;
    private final List<MemoryRegion> regions;
    private final ByteBuffer[] chunks;
    private final long pages;
    private final AtomicLongArray vmmWrites;

    private GuestMemory(HostMapping mapping, List<MemoryRegion> regions) {
        this.mapping = mapping;
        this.regions = regions;
        long size = mapping.size();
        this.pages = size >>> PAGE_SHIFT;
        int n = (int) ((size + CHUNK_MASK) >>> CHUNK_SHIFT);
        this.chunks = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            long off = (long) i << CHUNK_SHIFT;
            chunks[i] = mapping.view(off, (int) Math.min(1L << CHUNK_SHIFT, size - off));
        }
        this.vmmWrites = new AtomicLongArray((int) ((pages + 63) / 64));
    }

    /** Allocates {@code size} bytes of zeroed guest RAM (untouched pages cost the host nothing). */
    public static GuestMemory allocate(long size) {
        List<MemoryRegion> regions = MemoryLayout.regionsFor(size);
        return new GuestMemory(HostMapping.memfd("ferry-guest-ram", size), regions);
    }

    public long size() {
        return mapping.size();
    }

    public long pageCount() {
        return pages;
    }

    public List<MemoryRegion> regions() {
        return regions;
    }

    /** Host address of the region's first byte, for registering it as a KVM slot. */
    public long hostAddressOf(MemoryRegion region) {
        return mapping.address() + region.hostOffset();
    }

    /** Backing-file offset of guest-physical address {@code gpa}; throws if it is not RAM. */
    public long offsetOf(long gpa) {
        for (MemoryRegion r : regions) {
            if (r.contains(gpa)) {
                return r.hostOffset() + (gpa - r.guestBase());
            }
        }
        throw new IllegalArgumentException("guest address 0x" + Long.toHexString(gpa) + " is not RAM");
    }

    public boolean isRam(long gpa) {
        for (MemoryRegion r : regions) {
            if (r.contains(gpa)) {
                return true;
            }
        }
        return false;
    }

    /** Guest-physical address of whole-RAM page {@code page}. */
    public long gpaOfPage(long page) {
        long off = page << PAGE_SHIFT;
        for (MemoryRegion r : regions) {
            if (off >= r.hostOffset() && off < r.hostOffset() + r.size()) {
                return r.guestBase() + (off - r.hostOffset());
            }
        }
        throw new IllegalArgumentException("page " + page + " is beyond RAM (" + pages + " pages)");
    }

    private ByteBuffer chunk(long offset) {
        return chunks[(int) (offset >>> CHUNK_SHIFT)];
    }

    private long checked(long gpa, int length) {
        long off = offsetOf(gpa);
        if (length > 0 && !isRam(gpa + length - 1)) {
            throw new IllegalArgumentException("guest range 0x" + Long.toHexString(gpa) + "+" + length + " leaves RAM");
        }
        return off;
    }

    private void markWritten(long offset, long length) {
        long first = offset >>> PAGE_SHIFT;
        long last = (offset + Math.max(1, length) - 1) >>> PAGE_SHIFT;
        for (long p = first; p <= last; p++) {
            int w = (int) (p >>> 6);
            long bit = 1L << p;
            long cur = vmmWrites.get(w);
            if ((cur & bit) == 0) {
                vmmWrites.getAndAccumulate(w, bit, (a, b) -> a | b);
            }
        }
    }

    public long readLong(long gpa) {
        return readLe(gpa, 8);
    }

    public int readInt(long gpa) {
        return (int) readLe(gpa, 4);
    }

    public int readShort(long gpa) {
        return (int) readLe(gpa, 2);
    }

    public void writeShort(long gpa, int value) {
        writeLe(gpa, value, 2);
    }

    public void writeLong(long gpa, long value) {
        writeLe(gpa, value, 8);
    }

    public void writeInt(long gpa, int value) {
        writeLe(gpa, value, 4);
    }

    private long readLe(long gpa, int n) {
        byte[] b = new byte[8];
        read(gpa, b, 0, n);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private void writeLe(long gpa, long value, int n) {
        byte[] b = new byte[8];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
        write(gpa, b, 0, n);
    }

    /** Copies guest RAM at {@code gpa} into {@code dst}. */
    public void read(long gpa, byte[] dst, int dstOffset, int length) {
        long off = checked(gpa, length);
        while (length > 0) {
            int within = (int) (off & CHUNK_MASK);
            int n = (int) Math.min(length, (1L << CHUNK_SHIFT) - within);
            chunk(off).get(within, dst, dstOffset, n);
            off += n;
            dstOffset += n;
            length -= n;
        }
    }

    /** Copies {@code src} into guest RAM at {@code gpa}, recording the pages as written by the VMM. */
    public void write(long gpa, byte[] src, int srcOffset, int length) {
        long off = checked(gpa, length);
        markWritten(off, length);
        while (length > 0) {
            int within = (int) (off & CHUNK_MASK);
            int n = (int) Math.min(length, (1L << CHUNK_SHIFT) - within);
            chunk(off).put(within, src, srcOffset, n);
            off += n;
            srcOffset += n;
            length -= n;
        }
    }

    /** Copies guest RAM at {@code gpa} into {@code dst}'s remaining bytes (its position advances). */
    public void read(long gpa, ByteBuffer dst) {
        int length = dst.remaining();
        long off = checked(gpa, length);
        while (length > 0) {
            int within = (int) (off & CHUNK_MASK);
            int n = (int) Math.min(length, (1L << CHUNK_SHIFT) - within);
            dst.put(chunk(off).slice(within, n));
            off += n;
            length -= n;
        }
    }

    /** Copies {@code src}'s remaining bytes into guest RAM at {@code gpa}, recording the pages as written by the VMM. */
    public void write(long gpa, ByteBuffer src) {
        int length = src.remaining();
        long off = checked(gpa, length);
        markWritten(off, length);
        while (length > 0) {
            int within = (int) (off & CHUNK_MASK);
            int n = (int) Math.min(length, (1L << CHUNK_SHIFT) - within);
            chunk(off).slice(within, n).put(src.slice(src.position(), n));
            src.position(src.position() + n);
            off += n;
            length -= n;
        }
    }

    /** Copies whole-RAM page {@code page} into {@code dst} (4096 bytes from its position, which advances). */
    public void readPage(long page, ByteBuffer dst) {
        long off = page << PAGE_SHIFT;
        dst.put(chunk(off).slice((int) (off & CHUNK_MASK), PAGE_SIZE));
    }

    /** Copies 4096 bytes from {@code src} into whole-RAM page {@code page}, recording it as written by the VMM. */
    public void writePage(long page, ByteBuffer src) {
        long off = page << PAGE_SHIFT;
        markWritten(off, PAGE_SIZE);
        ByteBuffer target = chunk(off).slice((int) (off & CHUNK_MASK), PAGE_SIZE);
        target.put(src.slice(src.position(), PAGE_SIZE));
        src.position(src.position() + PAGE_SIZE);
    }

    /** Whether whole-RAM page {@code page} is all zero (a vectorized compare with a zero page). */
    public boolean isZeroPage(long page) {
        long off = page << PAGE_SHIFT;
        return chunk(off).slice((int) (off & CHUNK_MASK), PAGE_SIZE).mismatch(ZERO_PAGE) < 0;
    }

    /**
     * Copies every non-zero page into {@code target} (same size, zeroed where this is zero) and returns how
     * many pages it copied. Both must be quiet: no vCPU running on either.
     */
    public long copyNonZeroPagesTo(GuestMemory target) {
        if (target.size() != size()) {
            throw new IllegalArgumentException("cannot copy " + size() + " bytes of RAM into " + target.size());
        }
        ByteBuffer page = ByteBuffer.allocateDirect(PAGE_SIZE);
        long[] copied = {0};
        forEachPopulatedPage(p -> {
            if (!isZeroPage(p)) {
                page.clear();
                readPage(p, page);
                page.flip();
                target.writePage(p, page);
                copied[0]++;
            }
        });
        return copied[0];
    }

    /**
     * Calls {@code action} with every page that was ever written, by the guest or the VMM, in ascending
     * order; pages never touched are skipped without being read (and so without being allocated).
     */
    public void forEachPopulatedPage(LongConsumer action) {
        long off = mapping.nextData(0);
        while (off >= 0) {
            long end = mapping.nextHole(off);
            for (long p = off >>> PAGE_SHIFT; p < (end + PAGE_SIZE - 1) >>> PAGE_SHIFT; p++) {
                action.accept(p);
            }
            off = mapping.nextData(end);
        }
    }

    /** CRC32C of all of guest RAM, in whole-RAM page order; never-touched ranges count as zeros without being read. */
    public long checksum() {
        CRC32C crc = new CRC32C();
        ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
        long off = 0;
        long size = size();
        while (off < size) {
            long data = mapping.nextData(off);
            long holeEnd = data < 0 ? size : data;
            for (long z = off; z < holeEnd; ) {
                int n = (int) Math.min(zeros.capacity(), holeEnd - z);
                crc.update(zeros.clear().limit(n));
                z += n;
            }
            if (data < 0) {
                break;
            }
            long dataEnd = mapping.nextHole(data);
            for (long d = data; d < dataEnd; ) {
                int within = (int) (d & CHUNK_MASK);
                int n = (int) Math.min(dataEnd - d, (1L << CHUNK_SHIFT) - within);
                crc.update(chunk(d).slice(within, n));
                d += n;
            }
            off = dataEnd;
        }
        return crc.getValue();
    }

    /** Moves the record of pages the VMM wrote since the last drain into {@code into} (ORed). */
    public void drainVmmWrites(PageBitmap into) {
        for (int i = 0; i < vmmWrites.length(); i++) {
            if (vmmWrites.get(i) != 0) {
                into.words[i] |= vmmWrites.getAndSet(i, 0);
            }
        }
    }

    /** A hold on guest RAM: while any is open, {@link #close()} waits instead of unmapping it. */
    public interface Hold extends AutoCloseable {
        @Override
        void close();
    }

    private final Object holdLock = new Object();
    private int holds;
    private boolean closing;

    /**
     * Keeps guest RAM mapped while a thread other than the VM's reads it at length (a checkpoint being written): a
     * concurrent {@link #close()} waits for the hold to be released rather than unmapping memory under the reader.
     * Throws {@link IllegalStateException} once the memory is closed.
     */
    public Hold hold() {
        synchronized (holdLock) {
            if (closing) {
                throw new IllegalStateException("guest RAM was released (the VM was closed)");
            }
            holds++;
        }
        boolean[] released = {false};
        return () -> {
            synchronized (holdLock) {
                if (!released[0]) {
                    released[0] = true;
                    holds--;
                    holdLock.notifyAll();
                }
            }
        };
    }

    /**
     * Allocates whole-RAM pages {@code [first, first + count)} before they are written, in one call instead of a page
     * fault each (a destination filling fresh RAM); a no-op on kernels without MADV_POPULATE_WRITE.
     */
    public void populate(long first, long count) {
        if (populateWorks) {
            populateWorks = mapping.populate(first << PAGE_SHIFT, count << PAGE_SHIFT);
        }
    }

    /** Unmaps guest RAM, once every {@link #hold()} on it is released. */
    @Override
    public void close() {
        retire();
        mapping.close();
    }

    /** Refuses new holds and waits until every hold is released; {@link #close()} does this first. */
    public void retire() {
        synchronized (holdLock) {
            closing = true;
            boolean interrupted = false;
            while (holds > 0) {
                try {
                    holdLock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
