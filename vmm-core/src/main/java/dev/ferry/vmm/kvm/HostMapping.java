package dev.ferry.vmm.kvm;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A shared mapping of an anonymous memory file ({@code memfd}), the backing of guest RAM.
 * Pages cost nothing until touched. Seen from Java as {@link ByteBuffer} views of at most 1 GiB each.
 */
public final class HostMapping implements AutoCloseable {
    public static final long PAGE_SIZE = 4096;
    public static final long CHUNK = 1L << 30;
    private static final int MADV_REMOVE = 9;
    private static final int MADV_POPULATE_WRITE = 23;

    private final int fd;
    private final long address;
    private final long size;
    private volatile boolean closed;

    private HostMapping(int fd, long address, long size) {
        this.fd = fd;
        this.address = address;
        this.size = size;
    }

    /** Creates a memfd of {@code size} bytes and maps it shared, read-write, without reserving swap. */
    public static HostMapping memfd(String name, long size) {
        if (size <= 0 || size % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("mapping size must be a positive multiple of 4096, got " + size);
        }
        int fd;
        try {
            fd = LibC.memfd_create(name, LibC.MFD_CLOEXEC);
        } catch (LastErrorException e) {
            throw new KvmException("memfd_create", e.getErrorCode());
        }
        try {
            LibC.ftruncate(fd, size);
            long addr = Sys.mmap(size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_NORESERVE, fd, 0);
            return new HostMapping(fd, addr, size);
        } catch (LastErrorException e) {
            Sys.close(fd);
            throw new KvmException("ftruncate(memfd, " + size + ")", e.getErrorCode());
        } catch (RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
    }

    /** The host address of byte 0; for {@link MemorySlot} only. */
    public long address() {
        return address;
    }

    public long size() {
        return size;
    }

    /** A native-order view of {@code [offset, offset + length)}; {@code length} at most 1 GiB. */
    public ByteBuffer view(long offset, int length) {
        checkRange(offset, length);
        return new Pointer(address + offset).getByteBuffer(0, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The first byte at or after {@code offset} that was ever written (lseek SEEK_DATA on the memory file),
     * or -1 if none: pages never touched are holes and can be skipped without reading (reading them through
     * the mapping would allocate them).
     */
    public long nextData(long offset) {
        return seek(offset, LibC.SEEK_DATA);
    }

    /** The first byte at or after {@code offset} inside a hole (never written), or {@link #size()}. */
    public long nextHole(long offset) {
        long h = seek(offset, LibC.SEEK_HOLE);
        return h < 0 ? size : h;
    }

    private long seek(long offset, int whence) {
        if (offset >= size) {
            return -1;
        }
        try {
            return LibC.lseek(fd, offset, whence);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.ENXIO) {
                return -1;
            }
            throw new KvmException(whence == LibC.SEEK_DATA ? "lseek(SEEK_DATA)" : "lseek(SEEK_HOLE)", e.getErrorCode());
        }
    }

    /** Gives pages back to the host (they read as zero afterwards). */
    public void discard(long offset, long length) {
        checkRange(offset, length);
        try {
            LibC.madvise(address + offset, length, MADV_REMOVE);
        } catch (LastErrorException e) {
            throw new KvmException("madvise(MADV_REMOVE)", e.getErrorCode());
        }
    }

    /**
     * Allocates the pages of a range, writable, in one call (Linux 5.14+), rather than one page fault per page when
     * they are first written; returns false where the kernel does not know the advice (nothing is done then).
     */
    public boolean populate(long offset, long length) {
        checkRange(offset, length);
        try {
            LibC.madvise(address + offset, length, MADV_POPULATE_WRITE);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == LibC.EINVAL) {
                return false;
            }
            throw new KvmException("madvise(MADV_POPULATE_WRITE)", e.getErrorCode());
        }
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > size) {
            throw new IndexOutOfBoundsException("range [" + offset + ", +" + length + ") outside a mapping of " + size);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Sys.munmap(address, size);
            Sys.close(fd);
        }
    }
}
