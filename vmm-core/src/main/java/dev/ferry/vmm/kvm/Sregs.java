package dev.ferry.vmm.kvm;

/** The special registers of a vCPU ({@code struct kvm_sregs}). */
public record Sregs(Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss, Segment tr, Segment ldt,
                    DescriptorTable gdt, DescriptorTable idt,
                    long cr0, long cr2, long cr3, long cr4, long cr8, long efer, long apicBase,
                    long[] interruptBitmap) {

    public Sregs {
        interruptBitmap = interruptBitmap.clone();
        if (interruptBitmap.length != 4) {
            throw new IllegalArgumentException("interrupt bitmap has 4 words, got " + interruptBitmap.length);
        }
    }

    @Override
    public long[] interruptBitmap() {
        return interruptBitmap.clone();
    }

    /** These special registers with all the segment, table and control registers replaced; TR, LDT and APIC base kept. */
    public Sregs withLongMode(Segment cs, Segment data, DescriptorTable gdt, DescriptorTable idt, Segment tr,
                              long cr0, long cr3, long cr4, long efer) {
        return new Sregs(cs, data, data, data, data, data, tr, ldt, gdt, idt, cr0, 0, cr3, cr4, cr8, efer, apicBase,
                interruptBitmap);
    }
}
