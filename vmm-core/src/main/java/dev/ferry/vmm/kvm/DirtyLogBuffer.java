package dev.ferry.vmm.kvm;

import com.sun.jna.Memory;

/**
 * Native memory holding one slot's dirty bitmap (one bit per 4 KiB page, 64 pages a word),
 * allocated once and reused for every fetch so the hot path allocates nothing.
 */
public final class DirtyLogBuffer {
    final Memory memory;
    /** The {@code kvm_dirty_log} and {@code kvm_clear_dirty_log} arguments, filled once for this slot. */
    final Memory getArgs;
    final Memory clearArgs;
    private final int slot;
    private final long pages;
    private final int words;

    public DirtyLogBuffer(int slot, long pages) {
        this.slot = slot;
        this.pages = pages;
        long w = (pages + 63) / 64;
        if (w > Integer.MAX_VALUE || pages > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("slot too large for one bitmap: " + pages + " pages");
        }
        this.words = (int) w;
        this.memory = Structs.alloc(Math.max(8, w * 8));
        this.getArgs = Structs.alloc(Layout.KVM_DIRTY_LOG_SIZE);
        getArgs.setInt(Layout.DIRTY_LOG_SLOT, slot);
        getArgs.setLong(Layout.DIRTY_LOG_BITMAP, com.sun.jna.Pointer.nativeValue(memory));
        this.clearArgs = Structs.alloc(Layout.KVM_CLEAR_DIRTY_LOG_SIZE);
        clearArgs.setInt(Layout.CLEAR_LOG_SLOT, slot);
        clearArgs.setInt(Layout.CLEAR_LOG_NUM_PAGES, (int) pages);
        clearArgs.setLong(Layout.CLEAR_LOG_FIRST_PAGE, 0);
        clearArgs.setLong(Layout.CLEAR_LOG_BITMAP, com.sun.jna.Pointer.nativeValue(memory));
    }

    public int slot() {
        return slot;
    }

    public long pages() {
        return pages;
    }

    public int words() {
        return words;
    }

    /** Copies the bitmap into {@code dst}, which must hold {@link #words()} longs; returns how many bits are set. */
    public long copyTo(long[] dst) {
        memory.read(0, dst, 0, words);
        long set = 0;
        for (int i = 0; i < words; i++) {
            set += Long.bitCount(dst[i]);
        }
        return set;
    }

    /** Replaces the bitmap with {@code src}, for a later {@link KvmVm#clearDirtyLog}. */
    public void copyFrom(long[] src) {
        memory.write(0, src, 0, words);
    }
}
