package dev.ferry.vmm.kvm;

/**
 * Sizes and field offsets of the KVM structs the core reads and writes (x86_64).
 * The only place that knows them; {@code LayoutTest} checks each one against the C headers.
 */
final class Layout {
    private Layout() {}

    // struct kvm_run (the vCPU's shared page)
    static final int RUN_IMMEDIATE_EXIT = 1;
    static final int RUN_EXIT_REASON = 8;
    static final int RUN_EXIT = 32;
    static final int RUN_IO_DIRECTION = 32;
    static final int RUN_IO_SIZE = 33;
    static final int RUN_IO_PORT = 34;
    static final int RUN_IO_COUNT = 36;
    static final int RUN_IO_DATA_OFFSET = 40;
    static final int RUN_MMIO_PHYS_ADDR = 32;
    static final int RUN_MMIO_DATA = 40;
    static final int RUN_MMIO_LEN = 48;
    static final int RUN_MMIO_IS_WRITE = 52;
    static final int RUN_FAIL_ENTRY_REASON = 32;
    static final int RUN_FAIL_ENTRY_CPU = 40;
    static final int RUN_INTERNAL_SUBERROR = 32;
    static final int RUN_INTERNAL_NDATA = 36;
    static final int RUN_INTERNAL_DATA = 40;
    static final int RUN_SYSTEM_EVENT_TYPE = 32;
    static final int RUN_HW_EXIT_REASON = 32;

    static final int KVM_USERSPACE_MEMORY_REGION_SIZE = 32;
    static final int MEMREG_SLOT = 0;
    static final int MEMREG_FLAGS = 4;
    static final int MEMREG_GUEST_PHYS = 8;
    static final int MEMREG_SIZE = 16;
    static final int MEMREG_USERSPACE_ADDR = 24;

    static final int KVM_DIRTY_LOG_SIZE = 16;
    static final int DIRTY_LOG_SLOT = 0;
    static final int DIRTY_LOG_BITMAP = 8;

    static final int KVM_CLEAR_DIRTY_LOG_SIZE = 24;
    static final int CLEAR_LOG_SLOT = 0;
    static final int CLEAR_LOG_NUM_PAGES = 4;
    static final int CLEAR_LOG_FIRST_PAGE = 8;
    static final int CLEAR_LOG_BITMAP = 16;

    static final int KVM_ENABLE_CAP_SIZE = 104;
    static final int ENABLE_CAP_CAP = 0;
    static final int ENABLE_CAP_FLAGS = 4;
    static final int ENABLE_CAP_ARGS = 8;

    static final int KVM_REGS_SIZE = 144;

    static final int KVM_SEGMENT_SIZE = 24;
    static final int SEG_BASE = 0;
    static final int SEG_LIMIT = 8;
    static final int SEG_SELECTOR = 12;
    static final int SEG_TYPE = 14;
    static final int SEG_PRESENT = 15;
    static final int SEG_DPL = 16;
    static final int SEG_DB = 17;
    static final int SEG_S = 18;
    static final int SEG_L = 19;
    static final int SEG_G = 20;
    static final int SEG_AVL = 21;
    static final int SEG_UNUSABLE = 22;

    static final int KVM_DTABLE_SIZE = 16;
    static final int DTABLE_BASE = 0;
    static final int DTABLE_LIMIT = 8;

    static final int KVM_SREGS_SIZE = 312;
    static final int SREGS_CS = 0;
    static final int SREGS_DS = 24;
    static final int SREGS_ES = 48;
    static final int SREGS_FS = 72;
    static final int SREGS_GS = 96;
    static final int SREGS_SS = 120;
    static final int SREGS_TR = 144;
    static final int SREGS_LDT = 168;
    static final int SREGS_GDT = 192;
    static final int SREGS_IDT = 208;
    static final int SREGS_CR0 = 224;
    static final int SREGS_CR2 = 232;
    static final int SREGS_CR3 = 240;
    static final int SREGS_CR4 = 248;
    static final int SREGS_CR8 = 256;
    static final int SREGS_EFER = 264;
    static final int SREGS_APIC_BASE = 272;
    static final int SREGS_INTERRUPT_BITMAP = 280;

    static final int KVM_MSRS_SIZE = 8;
    static final int KVM_MSR_ENTRY_SIZE = 16;
    static final int MSR_ENTRY_INDEX = 0;
    static final int MSR_ENTRY_DATA = 8;
    static final int KVM_MSR_LIST_SIZE = 4;

    static final int KVM_CPUID2_SIZE = 8;
    static final int KVM_CPUID_ENTRY2_SIZE = 40;
    static final int CPUID_FUNCTION = 0;
    static final int CPUID_INDEX = 4;
    static final int CPUID_FLAGS = 8;
    static final int CPUID_EAX = 12;
    static final int CPUID_EBX = 16;
    static final int CPUID_ECX = 20;
    static final int CPUID_EDX = 24;

    static final int KVM_XCRS_SIZE = 392;
    static final int XCRS_NR = 0;
    static final int XCRS_FLAGS = 4;
    static final int XCRS_ENTRIES = 8;
    static final int KVM_XCR_SIZE = 16;
    static final int XCR_XCR = 0;
    static final int XCR_VALUE = 8;

    static final int KVM_FPU_SIZE = 416;
    static final int KVM_LAPIC_STATE_SIZE = 1024;
    static final int KVM_MP_STATE_SIZE = 4;
    static final int KVM_VCPU_EVENTS_SIZE = 64;
    static final int KVM_DEBUGREGS_SIZE = 128;
    static final int KVM_XSAVE_SIZE = 4096;
    static final int KVM_IRQCHIP_SIZE = 520;
    static final int IRQCHIP_CHIP_ID = 0;
    static final int KVM_CLOCK_DATA_SIZE = 48;
    static final int CLOCK_DATA_CLOCK = 0;
    static final int CLOCK_DATA_FLAGS = 8;

    static final int KVM_IRQFD_SIZE = 32;
    static final int IRQFD_FD = 0;
    static final int IRQFD_GSI = 4;
    static final int IRQFD_FLAGS = 8;

    static final int KVM_IOEVENTFD_SIZE = 64;
    static final int IOEVENTFD_DATAMATCH = 0;
    static final int IOEVENTFD_ADDR = 8;
    static final int IOEVENTFD_LEN = 16;
    static final int IOEVENTFD_FD = 20;
    static final int IOEVENTFD_FLAGS = 24;

    // struct sigaction as glibc declares it on x86_64
    static final int SIGACTION_SIZE = 152;
    static final int SIGACTION_HANDLER = 0;
    static final int SIGACTION_FLAGS = 136;
}
