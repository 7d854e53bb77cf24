package dev.ferry.vmm.kvm;

/**
 * KVM ioctl request numbers, built the way {@code <asm-generic/ioctl.h>} builds them.
 * The only place that knows them; {@code IoctlNumbersTest} checks each one against the C headers.
 * Several exceed 2^31, so they are {@code long}.
 */
final class Ioctls {
    private static final int NONE = 0;
    private static final int WRITE = 1;
    private static final int READ = 2;
    private static final int KVMIO = 0xAE;

    private Ioctls() {}

    static long ioc(int dir, int type, int nr, int size) {
        return ((long) dir << 30) | ((long) size << 16) | ((long) type << 8) | nr;
    }

    private static long io(int nr) {
        return ioc(NONE, KVMIO, nr, 0);
    }

    private static long ior(int nr, int size) {
        return ioc(READ, KVMIO, nr, size);
    }

    private static long iow(int nr, int size) {
        return ioc(WRITE, KVMIO, nr, size);
    }

    private static long iowr(int nr, int size) {
        return ioc(READ | WRITE, KVMIO, nr, size);
    }

    // system
    static final long KVM_GET_API_VERSION = io(0x00);
    static final long KVM_CREATE_VM = io(0x01);
    static final long KVM_GET_MSR_INDEX_LIST = iowr(0x02, Layout.KVM_MSR_LIST_SIZE);
    static final long KVM_CHECK_EXTENSION = io(0x03);
    static final long KVM_GET_VCPU_MMAP_SIZE = io(0x04);
    static final long KVM_GET_SUPPORTED_CPUID = iowr(0x05, Layout.KVM_CPUID2_SIZE);

    // vm
    static final long KVM_CREATE_VCPU = io(0x41);
    static final long KVM_GET_DIRTY_LOG = iow(0x42, Layout.KVM_DIRTY_LOG_SIZE);
    static final long KVM_SET_USER_MEMORY_REGION = iow(0x46, Layout.KVM_USERSPACE_MEMORY_REGION_SIZE);
    static final long KVM_SET_TSS_ADDR = io(0x47);
    static final long KVM_CREATE_IRQCHIP = io(0x60);
    static final long KVM_GET_IRQCHIP = iowr(0x62, Layout.KVM_IRQCHIP_SIZE);
    static final long KVM_SET_IRQCHIP = ior(0x63, Layout.KVM_IRQCHIP_SIZE);
    static final long KVM_IRQFD = iow(0x76, Layout.KVM_IRQFD_SIZE);
    static final long KVM_IOEVENTFD = iow(0x79, Layout.KVM_IOEVENTFD_SIZE);
    static final long KVM_SET_CLOCK = iow(0x7b, Layout.KVM_CLOCK_DATA_SIZE);
    static final long KVM_GET_CLOCK = ior(0x7c, Layout.KVM_CLOCK_DATA_SIZE);
    static final long KVM_ENABLE_CAP = iow(0xa3, Layout.KVM_ENABLE_CAP_SIZE);
    static final long KVM_CLEAR_DIRTY_LOG = iowr(0xc0, Layout.KVM_CLEAR_DIRTY_LOG_SIZE);

    // vcpu
    static final long KVM_RUN = io(0x80);
    static final long KVM_GET_REGS = ior(0x81, Layout.KVM_REGS_SIZE);
    static final long KVM_SET_REGS = iow(0x82, Layout.KVM_REGS_SIZE);
    static final long KVM_GET_SREGS = ior(0x83, Layout.KVM_SREGS_SIZE);
    static final long KVM_SET_SREGS = iow(0x84, Layout.KVM_SREGS_SIZE);
    static final long KVM_GET_MSRS = iowr(0x88, Layout.KVM_MSRS_SIZE);
    static final long KVM_SET_MSRS = iow(0x89, Layout.KVM_MSRS_SIZE);
    static final long KVM_GET_FPU = ior(0x8c, Layout.KVM_FPU_SIZE);
    static final long KVM_SET_FPU = iow(0x8d, Layout.KVM_FPU_SIZE);
    static final long KVM_GET_LAPIC = ior(0x8e, Layout.KVM_LAPIC_STATE_SIZE);
    static final long KVM_SET_LAPIC = iow(0x8f, Layout.KVM_LAPIC_STATE_SIZE);
    static final long KVM_SET_CPUID2 = iow(0x90, Layout.KVM_CPUID2_SIZE);
    static final long KVM_GET_MP_STATE = ior(0x98, Layout.KVM_MP_STATE_SIZE);
    static final long KVM_SET_MP_STATE = iow(0x99, Layout.KVM_MP_STATE_SIZE);
    static final long KVM_GET_VCPU_EVENTS = ior(0x9f, Layout.KVM_VCPU_EVENTS_SIZE);
    static final long KVM_SET_VCPU_EVENTS = iow(0xa0, Layout.KVM_VCPU_EVENTS_SIZE);
    static final long KVM_GET_DEBUGREGS = ior(0xa1, Layout.KVM_DEBUGREGS_SIZE);
    static final long KVM_SET_DEBUGREGS = iow(0xa2, Layout.KVM_DEBUGREGS_SIZE);
    static final long KVM_SET_TSC_KHZ = io(0xa2);
    static final long KVM_GET_TSC_KHZ = io(0xa3);
    static final long KVM_GET_XSAVE = ior(0xa4, Layout.KVM_XSAVE_SIZE);
    static final long KVM_SET_XSAVE = iow(0xa5, Layout.KVM_XSAVE_SIZE);
    static final long KVM_GET_XCRS = ior(0xa6, Layout.KVM_XCRS_SIZE);
    static final long KVM_SET_XCRS = iow(0xa7, Layout.KVM_XCRS_SIZE);
    static final long KVM_GET_XSAVE2 = ior(0xcf, Layout.KVM_XSAVE_SIZE);
}
