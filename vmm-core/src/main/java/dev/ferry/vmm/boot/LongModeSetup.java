package dev.ferry.vmm.boot;

import dev.ferry.vmm.kvm.DescriptorTable;
import dev.ferry.vmm.kvm.KvmVcpu;
import dev.ferry.vmm.kvm.Regs;
import dev.ferry.vmm.kvm.Segment;
import dev.ferry.vmm.kvm.Sregs;
import dev.ferry.vmm.kvm.Xcr;
import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.MemoryLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Prepares the environment the guest ABI promises: GDT and TSS, an identity map with 2 MiB pages and
 * the user bit at every level, and a vCPU already in 64-bit mode at CPL 3 with IOPL 3 (so port I/O
 * still exits to the VMM). The guest never runs at CPL 0, which a nested software KVM emulates slowly.
 */
public final class LongModeSetup {
    private static final long CR0_PE = 1;
    private static final long CR0_MP = 1 << 1;
    private static final long CR0_ET = 1 << 4;
    private static final long CR0_NE = 1 << 5;
    private static final long CR0_WP = 1 << 16;
    private static final long CR0_PG = 1L << 31;
    private static final long CR4_PAE = 1 << 5;
    private static final long CR4_OSFXSR = 1 << 9;
    private static final long CR4_OSXMMEXCPT = 1 << 10;
    private static final long CR4_OSXSAVE = 1 << 18;
    private static final long EFER_LME = 1 << 8;
    private static final long EFER_LMA = 1 << 10;
    private static final long PTE_P = 1;
    private static final long PTE_RW = 2;
    private static final long PTE_US = 4;
    private static final long PTE_PS = 0x80;
    private static final long XCR0_X87_SSE = 0x3;
    private static final long XCR0_AVX = 0x4;

    private static final long[] GDT_ENTRIES = {
        0,
        0x00AF9A000000FFFFL, // 0x08 kernel code64
        0x00CF92000000FFFFL, // 0x10 kernel data
        0x00CFF2000000FFFFL, // 0x18 user data, DPL 3
        0x00AFFA000000FFFFL, // 0x20 user code64, DPL 3
    };

    private LongModeSetup() {}

    /** Writes GDT, TSS and page tables for {@code ramSize} bytes of RAM into guest memory. */
    public static void writeTables(GuestMemory memory, long ramSize) {
        ByteBuffer gdt = ByteBuffer.allocate(GDT_ENTRIES.length * 8 + 16).order(ByteOrder.LITTLE_ENDIAN);
        for (long e : GDT_ENTRIES) {
            gdt.putLong(e);
        }
        gdt.putLong(tssDescriptorLow(GuestAbi.TSS, GuestAbi.TSS_LIMIT));
        gdt.putLong(GuestAbi.TSS >>> 32);
        memory.write(GuestAbi.GDT, gdt.array(), 0, gdt.capacity());

        // The I/O permission bitmap allows every port: the nested KVM this runs on does not keep IOPL 3 at CPL 3,
        // so without it the first port access would fault. Ports still exit to the VMM either way.
        ByteBuffer tss = ByteBuffer.allocate(GuestAbi.TSS_LIMIT + 1).order(ByteOrder.LITTLE_ENDIAN);
        tss.putShort(102, (short) GuestAbi.TSS_HEADER);
        tss.put(GuestAbi.TSS_LIMIT, (byte) 0xFF);
        memory.write(GuestAbi.TSS, tss.array(), 0, tss.capacity());

        long top = Math.max(MemoryLayout.topOfRam(ramSize), MemoryLayout.MMIO_HOLE_END);
        int gigs = (int) ((top + (1L << 30) - 1) >>> 30);
        if (gigs > GuestAbi.MAX_PD_PAGES) {
            throw new IllegalArgumentException("page tables cover at most " + GuestAbi.MAX_PD_PAGES + " GiB");
        }
        memory.writeLong(GuestAbi.PML4, GuestAbi.PDPT | PTE_P | PTE_RW | PTE_US);
        ByteBuffer pdpt = ByteBuffer.allocate(GuestMemory.PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer pd = ByteBuffer.allocate(GuestMemory.PAGE_SIZE * gigs).order(ByteOrder.LITTLE_ENDIAN);
        for (int g = 0; g < gigs; g++) {
            pdpt.putLong(8 * g, (GuestAbi.PD_BASE + (long) g * GuestMemory.PAGE_SIZE) | PTE_P | PTE_RW | PTE_US);
            for (int i = 0; i < 512; i++) {
                long phys = ((long) g << 30) | ((long) i << 21);
                pd.putLong(8 * (g * 512 + i), phys | PTE_P | PTE_RW | PTE_US | PTE_PS);
            }
        }
        memory.write(GuestAbi.PDPT, pdpt.array(), 0, pdpt.capacity());
        memory.write(GuestAbi.PD_BASE, pd.array(), 0, pd.capacity());
    }

    private static long tssDescriptorLow(long base, int limit) {
        long d = limit & 0xFFFFL;
        d |= (base & 0xFFFFFFL) << 16;
        d |= 0x89L << 40;
        d |= ((long) (limit >>> 16) & 0xF) << 48;
        d |= ((base >>> 24) & 0xFF) << 56;
        return d;
    }

    /** Puts the vCPU at the image entry point in 64-bit mode at CPL 3. */
    public static void enterGuest(KvmVcpu vcpu, boolean hasXsave, boolean hasAvx) {
        Sregs current = vcpu.getSregs();
        long cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | (hasXsave ? CR4_OSXSAVE : 0);
        Sregs sregs = current.withLongMode(
                Segment.code64(GuestAbi.SEL_USER_CODE, 3),
                Segment.data(GuestAbi.SEL_USER_DATA, 3),
                new DescriptorTable(GuestAbi.GDT, GDT_ENTRIES.length * 8 + 15),
                new DescriptorTable(0, 0),
                Segment.tss(GuestAbi.SEL_TSS, GuestAbi.TSS, GuestAbi.TSS_LIMIT),
                CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
                GuestAbi.PML4, cr4, EFER_LME | EFER_LMA);
        vcpu.setSregs(sregs);
        if (hasXsave) {
            vcpu.setXcrs(List.of(new Xcr(0, XCR0_X87_SSE | (hasAvx ? XCR0_AVX : 0))));
        }
        vcpu.setRegs(Regs.zero().withEntry(GuestAbi.IMAGE_BASE, GuestAbi.STACK_TOP, GuestAbi.BOOT_INFO,
                GuestAbi.RFLAGS_ENTRY));
    }

    /** Loads the image at {@link GuestAbi#IMAGE_BASE}; it must fit in the first RAM region. */
    public static void loadImage(GuestMemory memory, GuestImage image) {
        long end = GuestAbi.IMAGE_BASE + image.length();
        long lowRam = memory.regions().get(0).size();
        if (end + (1 << 20) > lowRam) {
            throw new IllegalArgumentException("guest image '" + image.name() + "' (" + image.length()
                    + " bytes) does not fit in " + lowRam + " bytes of RAM with room for its data");
        }
        memory.write(GuestAbi.IMAGE_BASE, image.raw(), 0, image.length());
    }
}
