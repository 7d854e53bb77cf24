package dev.ferry.vmm.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/** Encodes and decodes the KVM structs the records above stand for, at the offsets {@link Layout} names. */
final class Structs {
    private Structs() {}

    static Memory alloc(long size) {
        Memory m = new Memory(size);
        m.clear();
        return m;
    }

    static void putRegs(Pointer p, Regs regs) {
        p.write(0, regs.toArray(), 0, 18);
    }

    static Regs getRegs(Pointer p) {
        return Regs.fromArray(p.getLongArray(0, 18));
    }

    static void putSegment(Pointer p, long off, Segment s) {
        p.setLong(off + Layout.SEG_BASE, s.base());
        p.setInt(off + Layout.SEG_LIMIT, s.limit());
        p.setShort(off + Layout.SEG_SELECTOR, (short) s.selector());
        p.setByte(off + Layout.SEG_TYPE, (byte) s.type());
        p.setByte(off + Layout.SEG_PRESENT, bool(s.present()));
        p.setByte(off + Layout.SEG_DPL, (byte) s.dpl());
        p.setByte(off + Layout.SEG_DB, bool(s.db()));
        p.setByte(off + Layout.SEG_S, bool(s.s()));
        p.setByte(off + Layout.SEG_L, bool(s.l()));
        p.setByte(off + Layout.SEG_G, bool(s.g()));
        p.setByte(off + Layout.SEG_AVL, bool(s.avl()));
        p.setByte(off + Layout.SEG_UNUSABLE, bool(s.unusable()));
    }

    static Segment getSegment(Pointer p, long off) {
        return new Segment(p.getLong(off + Layout.SEG_BASE), p.getInt(off + Layout.SEG_LIMIT),
                p.getShort(off + Layout.SEG_SELECTOR) & 0xFFFF, p.getByte(off + Layout.SEG_TYPE) & 0xFF,
                p.getByte(off + Layout.SEG_PRESENT) != 0, p.getByte(off + Layout.SEG_DPL) & 0xFF,
                p.getByte(off + Layout.SEG_DB) != 0, p.getByte(off + Layout.SEG_S) != 0,
                p.getByte(off + Layout.SEG_L) != 0, p.getByte(off + Layout.SEG_G) != 0,
                p.getByte(off + Layout.SEG_AVL) != 0, p.getByte(off + Layout.SEG_UNUSABLE) != 0);
    }

    static void putSregs(Pointer p, Sregs s) {
        p.clear(Layout.KVM_SREGS_SIZE);
        putSegment(p, Layout.SREGS_CS, s.cs());
        putSegment(p, Layout.SREGS_DS, s.ds());
        putSegment(p, Layout.SREGS_ES, s.es());
        putSegment(p, Layout.SREGS_FS, s.fs());
        putSegment(p, Layout.SREGS_GS, s.gs());
        putSegment(p, Layout.SREGS_SS, s.ss());
        putSegment(p, Layout.SREGS_TR, s.tr());
        putSegment(p, Layout.SREGS_LDT, s.ldt());
        p.setLong(Layout.SREGS_GDT + Layout.DTABLE_BASE, s.gdt().base());
        p.setShort(Layout.SREGS_GDT + Layout.DTABLE_LIMIT, (short) s.gdt().limit());
        p.setLong(Layout.SREGS_IDT + Layout.DTABLE_BASE, s.idt().base());
        p.setShort(Layout.SREGS_IDT + Layout.DTABLE_LIMIT, (short) s.idt().limit());
        p.setLong(Layout.SREGS_CR0, s.cr0());
        p.setLong(Layout.SREGS_CR2, s.cr2());
        p.setLong(Layout.SREGS_CR3, s.cr3());
        p.setLong(Layout.SREGS_CR4, s.cr4());
        p.setLong(Layout.SREGS_CR8, s.cr8());
        p.setLong(Layout.SREGS_EFER, s.efer());
        p.setLong(Layout.SREGS_APIC_BASE, s.apicBase());
        p.write(Layout.SREGS_INTERRUPT_BITMAP, s.interruptBitmap(), 0, 4);
    }

    static Sregs getSregs(Pointer p) {
        return new Sregs(getSegment(p, Layout.SREGS_CS), getSegment(p, Layout.SREGS_DS),
                getSegment(p, Layout.SREGS_ES), getSegment(p, Layout.SREGS_FS), getSegment(p, Layout.SREGS_GS),
                getSegment(p, Layout.SREGS_SS), getSegment(p, Layout.SREGS_TR), getSegment(p, Layout.SREGS_LDT),
                new DescriptorTable(p.getLong(Layout.SREGS_GDT), p.getShort(Layout.SREGS_GDT + Layout.DTABLE_LIMIT) & 0xFFFF),
                new DescriptorTable(p.getLong(Layout.SREGS_IDT), p.getShort(Layout.SREGS_IDT + Layout.DTABLE_LIMIT) & 0xFFFF),
                p.getLong(Layout.SREGS_CR0), p.getLong(Layout.SREGS_CR2), p.getLong(Layout.SREGS_CR3),
                p.getLong(Layout.SREGS_CR4), p.getLong(Layout.SREGS_CR8), p.getLong(Layout.SREGS_EFER),
                p.getLong(Layout.SREGS_APIC_BASE), p.getLongArray(Layout.SREGS_INTERRUPT_BITMAP, 4));
    }

    private static byte bool(boolean b) {
        return (byte) (b ? 1 : 0);
    }
}
