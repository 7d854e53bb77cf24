package dev.ferry.vmm.kvm;

/** The KVM capabilities Ferry relies on ({@code KVM_CAP_*}), and whether the core can run without each. */
public enum Capability {
    IRQCHIP(0, true, "in-kernel PIC/IOAPIC/LAPIC"),
    USER_MEMORY(3, true, "guest RAM from user memory"),
    SET_TSS_ADDR(4, true, "TSS address"),
    EXT_CPUID(7, true, "KVM_SET_CPUID2"),
    NR_MEMSLOTS(10, true, "memory slots per VM"),
    MP_STATE(14, true, "vCPU multiprocessing state save/restore"),
    IRQFD(32, false, "interrupts from an eventfd"),
    IOEVENTFD(36, false, "device doorbells without a userspace exit"),
    ADJUST_CLOCK(39, true, "kvmclock save/restore"),
    VCPU_EVENTS(41, true, "pending event save/restore"),
    DEBUGREGS(50, true, "debug register save/restore"),
    XSAVE(55, true, "XSAVE state save/restore"),
    XCRS(56, true, "XCR0 save/restore"),
    TSC_CONTROL(60, false, "setting the guest TSC frequency"),
    GET_TSC_KHZ(61, true, "reading the guest TSC frequency"),
    READONLY_MEM(81, false, "read-only memory slots"),
    IMMEDIATE_EXIT(136, true, "kicking a vCPU out of KVM_RUN"),
    MANUAL_DIRTY_LOG_PROTECT2(168, true, "dirty log with manual clear"),
    XSAVE2(208, false, "XSAVE areas larger than 4 KiB");

    private final int number;
    private final boolean required;
    private final String purpose;

    Capability(int number, boolean required, String purpose) {
        this.number = number;
        this.required = required;
        this.purpose = purpose;
    }

    public int number() {
        return number;
    }

    public boolean required() {
        return required;
    }

    public String purpose() {
        return purpose;
    }

    public String kernelName() {
        return "KVM_CAP_" + name();
    }
}
