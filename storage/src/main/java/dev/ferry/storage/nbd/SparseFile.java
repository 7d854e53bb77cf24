package dev.ferry.storage.nbd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The data and the holes of an image file, found with {@code lseek(SEEK_DATA)} and {@code lseek(SEEK_HOLE)} on a
 * descriptor of its own. Where those calls cannot be made ({@link #isAvailable()} false, or a file system that refuses
 * them) every range is reported as data, which the protocol always allows.
 */
final class SparseFile implements AutoCloseable {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;
    private static final String UNAVAILABLE;

    static {
        String cause = null;
        try {
            Native.register(NativeLibrary.getInstance("c"));
        } catch (Throwable t) {
            cause = "libc through JNA: " + t;
        }
        UNAVAILABLE = cause;
    }

    private final Path path;
    private final int fd;
    private boolean seekWorks;

    private SparseFile(Path path, int fd) {
        this.path = path;
        this.fd = fd;
        this.seekWorks = fd >= 0;
    }

    /** Whether holes can be found at all (JNA and libc load). */
    static boolean isAvailable() {
        return UNAVAILABLE == null;
    }

    /** Why holes cannot be found, or null. */
    static String unavailabilityCause() {
        return UNAVAILABLE;
    }

    /** Opens {@code path} read-only for its map; a file that cannot be opened so is reported as all data. */
    static SparseFile open(Path path) {
        if (!isAvailable()) {
            return new SparseFile(path, -1);
        }
        try {
            return new SparseFile(path, open(path.toString(), O_RDONLY | O_CLOEXEC));
        } catch (LastErrorException e) {
            return new SparseFile(path, -1);
        }
    }

    /**
     * The runs of {@code [offset, offset + length)} in order, each data (flags 0) or a hole that reads as zeros
     * ({@link Nbd#STATE_HOLE} | {@link Nbd#STATE_ZERO}); at most {@code max} runs, the last of which may then end
     * before the range does. Bytes past the file's end (it shrank) are reported as a hole.
     */
    List<NbdExtent> map(long offset, long length, int max) throws IOException {
        List<NbdExtent> out = new ArrayList<>();
        long end = offset + length;
        long pos = offset;
        while (pos < end && out.size() < max) {
            if (!seekWorks) {
                out.add(new NbdExtent(pos, end - pos, 0));
                break;
            }
            long data = seek(pos, SEEK_DATA);
            if (data < 0) {
                break;   // seek refused: what is left is reported as data below
            }
            if (data == Long.MAX_VALUE || data > pos) {
                long holeEnd = Math.min(data, end);
                out.add(new NbdExtent(pos, holeEnd - pos, Nbd.STATE_HOLE | Nbd.STATE_ZERO));
                pos = holeEnd;
                continue;
            }
            long hole = seek(pos, SEEK_HOLE);
            if (hole < 0) {
                break;
            }
            long dataEnd = Math.min(Math.max(hole, pos + 1), end);
            out.add(new NbdExtent(pos, dataEnd - pos, 0));
            pos = dataEnd;
        }
        if (pos < end && out.size() < max) {
            out.add(new NbdExtent(pos, end - pos, 0));
        }
        return out;
    }

    /**
     * {@code lseek(fd, pos, whence)}: the offset, {@link Long#MAX_VALUE} for SEEK_DATA with no data after
     * {@code pos} (ENXIO), or -1 once the file system has refused the call (then every later map says data).
     */
    private long seek(long pos, int whence) throws IOException {
        try {
            return lseek(fd, pos, whence);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ENXIO) {
                // SEEK_DATA: only a hole follows; SEEK_HOLE: pos is at or past the end
                return whence == SEEK_DATA ? Long.MAX_VALUE : pos;
            }
            seekWorks = false;
            return -1;
        }
    }

    @Override
    public void close() throws IOException {
        if (fd >= 0) {
            try {
                close(fd);
            } catch (LastErrorException e) {
                throw new IOException("close of " + path + ": errno " + e.getErrorCode(), e);
            }
        }
    }

    // Safety: JNA copies the path into native memory for the call only; no pointer outlives it.
    private static native int open(String path, int flags) throws LastErrorException;

    private static native long lseek(int fd, long offset, int whence) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;
}
