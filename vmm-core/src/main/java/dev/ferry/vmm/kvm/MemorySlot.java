package dev.ferry.vmm.kvm;

/**
 * A KVM memory slot ({@code struct kvm_userspace_memory_region}).
 * {@code hostAddress} is the start of the host mapping that backs the slot.
 */
public record MemorySlot(int slot, long guestPhysAddress, long size, long hostAddress, boolean logDirtyPages) {
    public static final int LOG_DIRTY_PAGES = 1;

    public MemorySlot withDirtyLogging(boolean on) {
        return new MemorySlot(slot, guestPhysAddress, size, hostAddress, on);
    }

    int flags() {
        return logDirtyPages ? LOG_DIRTY_PAGES : 0;
    }

    public long pages() {
        return size >>> 12;
    }
}
