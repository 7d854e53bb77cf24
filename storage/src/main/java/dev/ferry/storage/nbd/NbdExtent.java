package dev.ferry.storage.nbd;

/**
 * A run of an export and its {@code base:allocation} status: {@link Nbd#STATE_HOLE} (not allocated) and
 * {@link Nbd#STATE_ZERO} (reads as zeros); 0 is data, or a status the server could not tell.
 */
public record NbdExtent(long offset, long length, int flags) {
    public NbdExtent {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("extent of " + length + " bytes at " + offset);
        }
    }

    public long end() {
        return offset + length;
    }

    /** Whether the range reads as zeros (whether or not it is allocated). */
    public boolean zero() {
        return (flags & Nbd.STATE_ZERO) != 0;
    }

    public boolean hole() {
        return (flags & Nbd.STATE_HOLE) != 0;
    }
}
