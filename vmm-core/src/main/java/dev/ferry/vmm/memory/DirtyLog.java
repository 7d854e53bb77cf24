package dev.ferry.vmm.memory;

import dev.ferry.vmm.kvm.DirtyLogBuffer;
import dev.ferry.vmm.kvm.KvmVm;
import dev.ferry.vmm.kvm.MemorySlot;

/**
 * Dirty-page tracking over every RAM slot, with KVM's manual-clear protocol: fetch the bitmap
 * (KVM_GET_DIRTY_LOG), clear and write-protect again exactly the pages fetched (KVM_CLEAR_DIRTY_LOG),
 * then read them. A write between fetch and clear lands before the pages are read; a write after the
 * clear is logged again. Pages written by the VMM itself are merged in from {@link GuestMemory}.
 */
public final class DirtyLog {
    private final KvmVm vm;
    private final GuestMemory memory;
    private final DirtyLogBuffer[] buffers;
    private final long[][] words;
    private final PageBitmap vmmPages;
    private volatile boolean enabled;

    public DirtyLog(KvmVm vm, GuestMemory memory) {
        this.vm = vm;
        this.memory = memory;
        int n = memory.regions().size();
        this.buffers = new DirtyLogBuffer[n];
        this.words = new long[n][];
        for (int i = 0; i < n; i++) {
            buffers[i] = new DirtyLogBuffer(memory.regions().get(i).slot(), memory.regions().get(i).pages());
            words[i] = new long[buffers[i].words()];
        }
        this.vmmPages = new PageBitmap(memory.pageCount());
    }

    /** Registers every RAM region as a KVM slot, with dirty logging as {@link #isEnabled()} says. */
    public void registerSlots() {
        for (MemoryRegion r : memory.regions()) {
            vm.setUserMemoryRegion(slotOf(r));
        }
    }

    private MemorySlot slotOf(MemoryRegion r) {
        return new MemorySlot(r.slot(), r.guestBase(), r.size(), memory.hostAddressOf(r), enabled);
    }

    public boolean isEnabled() {
        return enabled;
    }

    /**
     * Turns logging on or off for every slot. Turning it on write-protects guest RAM, so from then on
     * every guest write is logged; pages the VMM wrote before are forgotten. Call with vCPUs paused.
     */
    public void setEnabled(boolean on) {
        if (on == enabled) {
            return;
        }
        enabled = on;
        if (on) {
            memory.drainVmmWrites(vmmPages);
            vmmPages.clear();
        }
        registerSlots();
    }

    /**
     * Adds to {@code into} every page written since the previous fetch (or since logging was enabled),
     * and starts a new interval. Returns how many pages are set in {@code into} afterwards.
     */
    public long fetchAndClear(PageBitmap into) {
        if (!enabled) {
            throw new IllegalStateException("dirty logging is off: switch virtualization ON first");
        }
        if (into.pages() != memory.pageCount()) {
            throw new IllegalArgumentException("bitmap of " + into.pages() + " pages for " + memory.pageCount());
        }
        for (int i = 0; i < buffers.length; i++) {
            MemoryRegion r = memory.regions().get(i);
            vm.getDirtyLog(buffers[i]);
            if (buffers[i].copyTo(words[i]) > 0) {
                vm.clearDirtyLog(buffers[i]);
                into.orWords(r.firstPageIndex(), words[i], words[i].length);
            }
        }
        memory.drainVmmWrites(into);
        return into.count();
    }

    /**
     * Adds to {@code into} every page guest vCPUs wrote since the previous fetch, without starting a new interval:
     * the next {@link #fetchAndClear} still returns them. A pre-copy round uses it to skip pages the guest wrote
     * again after the round began, which the next round sends anyway. Returns the pages set in {@code into}.
     */
    public long peek(PageBitmap into) {
        if (!enabled) {
            throw new IllegalStateException("dirty logging is off: switch virtualization ON first");
        }
        if (into.pages() != memory.pageCount()) {
            throw new IllegalArgumentException("bitmap of " + into.pages() + " pages for " + memory.pageCount());
        }
        for (int i = 0; i < buffers.length; i++) {
            vm.getDirtyLog(buffers[i]);
            if (buffers[i].copyTo(words[i]) > 0) {
                into.orWords(memory.regions().get(i).firstPageIndex(), words[i], words[i].length);
            }
        }
        return into.count();
    }
}
