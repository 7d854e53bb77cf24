package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.MemoryLayout;

/**
 * The section types of format 1.x, by their code in the section header. A reader that meets a code it does not
 * know skips the section if its header says it may, and refuses the file otherwise. Codes are never reused.
 */
public enum SectionType {
    /** Checkpoint id, parent, creation time, VM, guest, memory size, free attributes ({@code CheckpointMeta}). */
    META(1, 1 << 20),
    /** The KVM-side machine state ({@code MachineState} of {@code machine.proto}). */
    MACHINE(2, 16 << 20),
    /** Guest pages in blocks; capped here for the largest guest, and again for the guest's own memory size. */
    MEMORY(3, MemorySectionReader.cap(MemoryLayout.MAX_SIZE / GuestMemory.PAGE_SIZE)),
    /** One device: its name and the opaque state its owner supplies. */
    DEVICE(4, 64 << 20),
    /** The trap log's summary, opaque bytes its owner supplies. */
    TRAPLOG(5, 128 << 20);

    private final int code;
    private final long cap;

    SectionType(int code, long cap) {
        this.code = code;
        this.cap = cap;
    }

    public int code() {
        return code;
    }

    /** The largest payload a reader accepts for this type, in bytes. */
    long cap() {
        return cap;
    }

    /** The type with this code, or null when this build does not know it. */
    public static SectionType of(int code) {
        for (SectionType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }

    /** {@code MEMORY}, or {@code type 0x002a} for a code this build does not know. */
    public static String describe(int code) {
        SectionType t = of(code);
        return t != null ? t.name() : String.format("type 0x%04x", code);
    }
}
