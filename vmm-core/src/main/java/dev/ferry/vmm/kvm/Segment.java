package dev.ferry.vmm.kvm;

/** A segment register as KVM holds it ({@code struct kvm_segment}): the cached descriptor, not the GDT entry. */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl, boolean db,
                      boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    /** A flat 64-bit code segment at the given privilege level. */
    public static Segment code64(int selector, int dpl) {
        return new Segment(0, 0xFFFFFFFF, selector, 0xB, true, dpl, false, true, true, true, false, false);
    }

    /** A flat data segment at the given privilege level. */
    public static Segment data(int selector, int dpl) {
        return new Segment(0, 0xFFFFFFFF, selector, 0x3, true, dpl, true, true, false, true, false, false);
    }

    /** A 64-bit available TSS. */
    public static Segment tss(int selector, long base, int limit) {
        return new Segment(base, limit, selector, 0xB, true, 0, false, false, false, false, false, false);
    }
}
