package dev.ferry.vmm.memory;

/**
 * One contiguous range of guest RAM: {@code [guestBase, guestBase + size)} in guest-physical space,
 * stored at {@code hostOffset} in the backing mapping and registered as KVM slot {@code slot}.
 */
public record MemoryRegion(int slot, long guestBase, long size, long hostOffset) {
    public long end() {
        return guestBase + size;
    }

    public boolean contains(long gpa) {
        return gpa >= guestBase && gpa < guestBase + size;
    }

    /** Index of this region's first page in the whole-RAM page numbering (backing offset / 4 KiB). */
    public long firstPageIndex() {
        return hostOffset >>> GuestMemory.PAGE_SHIFT;
    }

    public long pages() {
        return size >>> GuestMemory.PAGE_SHIFT;
    }
}
