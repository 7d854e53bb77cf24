package dev.ferry.capture.checkpoint;

import java.nio.ByteBuffer;

/**
 * The first 16 bytes of a MEMORY section: the guest's page count (u64), the largest block this file uses in
 * pages (u16, at most {@link #MAX_BLOCK_PAGES}), flags (u16: bit 0 = incremental), and a reserved zero word.
 */
record MemoryPreamble(long guestPages, int blockPages, boolean incremental) {
    static final int BYTES = 16;
    /** 256 pages: a block holds at most 1 MiB of guest memory. */
    static final int MAX_BLOCK_PAGES = 256;
    static final int INCREMENTAL = 1;

    byte[] encode() {
        byte[] b = new byte[BYTES];
        Le.wrap(b).putLong(guestPages).putShort((short) blockPages).putShort((short) (incremental ? INCREMENTAL : 0))
                .putInt(0);
        return b;
    }

    /** Decodes {@code b}; an {@link IllegalArgumentException} says what is wrong with it. */
    static MemoryPreamble decode(byte[] b) {
        ByteBuffer bb = Le.wrap(b);
        long pages = bb.getLong();
        int blockPages = Short.toUnsignedInt(bb.getShort());
        int flags = Short.toUnsignedInt(bb.getShort());
        int reserved = bb.getInt();
        if (blockPages < 1 || blockPages > MAX_BLOCK_PAGES) {
            throw new IllegalArgumentException("blocks of " + blockPages + " pages; this build reads 1 to "
                    + MAX_BLOCK_PAGES);
        }
        if ((flags & ~INCREMENTAL) != 0 || reserved != 0) {
            throw new IllegalArgumentException(String.format("memory flags 0x%04x, reserved 0x%08x: expected"
                    + " flags 0 or 1 and reserved 0", flags, reserved));
        }
        return new MemoryPreamble(pages, blockPages, (flags & INCREMENTAL) != 0);
    }
}
