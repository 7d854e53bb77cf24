/*
 * Prints every KVM ioctl number and struct layout fact the Java core hard-codes, computed by the
 * C compiler from <linux/kvm.h>, one "Class.NAME value" per line. KvmAbiTest compares them.
 */
#define _GNU_SOURCE
#include <linux/kvm.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#define IOCTL(name) printf("Ioctls.%s %lu\n", #name, (unsigned long)(name))
#define VAL(name, expr) printf("Layout.%s %lu\n", #name, (unsigned long)(expr))
#define OFF(name, type, member) VAL(name, offsetof(type, member))
#define SIZE(name, type) VAL(name, sizeof(type))

int main(void)
{
    IOCTL(KVM_GET_API_VERSION);
    IOCTL(KVM_CREATE_VM);
    IOCTL(KVM_GET_MSR_INDEX_LIST);
    IOCTL(KVM_CHECK_EXTENSION);
    IOCTL(KVM_GET_VCPU_MMAP_SIZE);
    IOCTL(KVM_GET_SUPPORTED_CPUID);
    IOCTL(KVM_CREATE_VCPU);
    IOCTL(KVM_GET_DIRTY_LOG);
    IOCTL(KVM_SET_USER_MEMORY_REGION);
    IOCTL(KVM_SET_TSS_ADDR);
    IOCTL(KVM_CREATE_IRQCHIP);
    IOCTL(KVM_GET_IRQCHIP);
    IOCTL(KVM_SET_IRQCHIP);
    IOCTL(KVM_IRQFD);
    IOCTL(KVM_IOEVENTFD);
    IOCTL(KVM_SET_CLOCK);
    IOCTL(KVM_GET_CLOCK);
    IOCTL(KVM_ENABLE_CAP);
    IOCTL(KVM_CLEAR_DIRTY_LOG);
    IOCTL(KVM_RUN);
    IOCTL(KVM_GET_REGS);
    IOCTL(KVM_SET_REGS);
    IOCTL(KVM_GET_SREGS);
    IOCTL(KVM_SET_SREGS);
    IOCTL(KVM_GET_MSRS);
    IOCTL(KVM_SET_MSRS);
    IOCTL(KVM_GET_FPU);
    IOCTL(KVM_SET_FPU);
    IOCTL(KVM_GET_LAPIC);
    IOCTL(KVM_SET_LAPIC);
    IOCTL(KVM_SET_CPUID2);
    IOCTL(KVM_GET_MP_STATE);
    IOCTL(KVM_SET_MP_STATE);
    IOCTL(KVM_GET_VCPU_EVENTS);
    IOCTL(KVM_SET_VCPU_EVENTS);
    IOCTL(KVM_GET_DEBUGREGS);
    IOCTL(KVM_SET_DEBUGREGS);
    IOCTL(KVM_SET_TSC_KHZ);
    IOCTL(KVM_GET_TSC_KHZ);
    IOCTL(KVM_GET_XSAVE);
    IOCTL(KVM_SET_XSAVE);
    IOCTL(KVM_GET_XCRS);
    IOCTL(KVM_SET_XCRS);
    IOCTL(KVM_GET_XSAVE2);

    OFF(RUN_IMMEDIATE_EXIT, struct kvm_run, immediate_exit);
    OFF(RUN_EXIT_REASON, struct kvm_run, exit_reason);
    OFF(RUN_EXIT, struct kvm_run, hw);
    OFF(RUN_IO_DIRECTION, struct kvm_run, io.direction);
    OFF(RUN_IO_SIZE, struct kvm_run, io.size);
    OFF(RUN_IO_PORT, struct kvm_run, io.port);
    OFF(RUN_IO_COUNT, struct kvm_run, io.count);
    OFF(RUN_IO_DATA_OFFSET, struct kvm_run, io.data_offset);
    OFF(RUN_MMIO_PHYS_ADDR, struct kvm_run, mmio.phys_addr);
    OFF(RUN_MMIO_DATA, struct kvm_run, mmio.data);
    OFF(RUN_MMIO_LEN, struct kvm_run, mmio.len);
    OFF(RUN_MMIO_IS_WRITE, struct kvm_run, mmio.is_write);
    OFF(RUN_FAIL_ENTRY_REASON, struct kvm_run, fail_entry.hardware_entry_failure_reason);
    OFF(RUN_FAIL_ENTRY_CPU, struct kvm_run, fail_entry.cpu);
    OFF(RUN_INTERNAL_SUBERROR, struct kvm_run, internal.suberror);
    OFF(RUN_INTERNAL_NDATA, struct kvm_run, internal.ndata);
    OFF(RUN_INTERNAL_DATA, struct kvm_run, internal.data);
    OFF(RUN_SYSTEM_EVENT_TYPE, struct kvm_run, system_event.type);
    OFF(RUN_HW_EXIT_REASON, struct kvm_run, hw.hardware_exit_reason);

    SIZE(KVM_USERSPACE_MEMORY_REGION_SIZE, struct kvm_userspace_memory_region);
    OFF(MEMREG_SLOT, struct kvm_userspace_memory_region, slot);
    OFF(MEMREG_FLAGS, struct kvm_userspace_memory_region, flags);
    OFF(MEMREG_GUEST_PHYS, struct kvm_userspace_memory_region, guest_phys_addr);
    OFF(MEMREG_SIZE, struct kvm_userspace_memory_region, memory_size);
    OFF(MEMREG_USERSPACE_ADDR, struct kvm_userspace_memory_region, userspace_addr);

    SIZE(KVM_DIRTY_LOG_SIZE, struct kvm_dirty_log);
    OFF(DIRTY_LOG_SLOT, struct kvm_dirty_log, slot);
    OFF(DIRTY_LOG_BITMAP, struct kvm_dirty_log, dirty_bitmap);
    SIZE(KVM_CLEAR_DIRTY_LOG_SIZE, struct kvm_clear_dirty_log);
    OFF(CLEAR_LOG_SLOT, struct kvm_clear_dirty_log, slot);
    OFF(CLEAR_LOG_NUM_PAGES, struct kvm_clear_dirty_log, num_pages);
    OFF(CLEAR_LOG_FIRST_PAGE, struct kvm_clear_dirty_log, first_page);
    OFF(CLEAR_LOG_BITMAP, struct kvm_clear_dirty_log, dirty_bitmap);

    SIZE(KVM_ENABLE_CAP_SIZE, struct kvm_enable_cap);
    OFF(ENABLE_CAP_CAP, struct kvm_enable_cap, cap);
    OFF(ENABLE_CAP_FLAGS, struct kvm_enable_cap, flags);
    OFF(ENABLE_CAP_ARGS, struct kvm_enable_cap, args);

    SIZE(KVM_REGS_SIZE, struct kvm_regs);
    SIZE(KVM_SEGMENT_SIZE, struct kvm_segment);
    OFF(SEG_BASE, struct kvm_segment, base);
    OFF(SEG_LIMIT, struct kvm_segment, limit);
    OFF(SEG_SELECTOR, struct kvm_segment, selector);
    OFF(SEG_TYPE, struct kvm_segment, type);
    OFF(SEG_PRESENT, struct kvm_segment, present);
    OFF(SEG_DPL, struct kvm_segment, dpl);
    OFF(SEG_DB, struct kvm_segment, db);
    OFF(SEG_S, struct kvm_segment, s);
    OFF(SEG_L, struct kvm_segment, l);
    OFF(SEG_G, struct kvm_segment, g);
    OFF(SEG_AVL, struct kvm_segment, avl);
    OFF(SEG_UNUSABLE, struct kvm_segment, unusable);
    SIZE(KVM_DTABLE_SIZE, struct kvm_dtable);
    OFF(DTABLE_BASE, struct kvm_dtable, base);
    OFF(DTABLE_LIMIT, struct kvm_dtable, limit);

    SIZE(KVM_SREGS_SIZE, struct kvm_sregs);
    OFF(SREGS_CS, struct kvm_sregs, cs);
    OFF(SREGS_DS, struct kvm_sregs, ds);
    OFF(SREGS_ES, struct kvm_sregs, es);
    OFF(SREGS_FS, struct kvm_sregs, fs);
    OFF(SREGS_GS, struct kvm_sregs, gs);
    OFF(SREGS_SS, struct kvm_sregs, ss);
    OFF(SREGS_TR, struct kvm_sregs, tr);
    OFF(SREGS_LDT, struct kvm_sregs, ldt);
    OFF(SREGS_GDT, struct kvm_sregs, gdt);
    OFF(SREGS_IDT, struct kvm_sregs, idt);
    OFF(SREGS_CR0, struct kvm_sregs, cr0);
    OFF(SREGS_CR2, struct kvm_sregs, cr2);
    OFF(SREGS_CR3, struct kvm_sregs, cr3);
    OFF(SREGS_CR4, struct kvm_sregs, cr4);
    OFF(SREGS_CR8, struct kvm_sregs, cr8);
    OFF(SREGS_EFER, struct kvm_sregs, efer);
    OFF(SREGS_APIC_BASE, struct kvm_sregs, apic_base);
    OFF(SREGS_INTERRUPT_BITMAP, struct kvm_sregs, interrupt_bitmap);

    SIZE(KVM_MSRS_SIZE, struct kvm_msrs);
    SIZE(KVM_MSR_ENTRY_SIZE, struct kvm_msr_entry);
    OFF(MSR_ENTRY_INDEX, struct kvm_msr_entry, index);
    OFF(MSR_ENTRY_DATA, struct kvm_msr_entry, data);
    SIZE(KVM_MSR_LIST_SIZE, struct kvm_msr_list);

    SIZE(KVM_CPUID2_SIZE, struct kvm_cpuid2);
    SIZE(KVM_CPUID_ENTRY2_SIZE, struct kvm_cpuid_entry2);
    OFF(CPUID_FUNCTION, struct kvm_cpuid_entry2, function);
    OFF(CPUID_INDEX, struct kvm_cpuid_entry2, index);
    OFF(CPUID_FLAGS, struct kvm_cpuid_entry2, flags);
    OFF(CPUID_EAX, struct kvm_cpuid_entry2, eax);
    OFF(CPUID_EBX, struct kvm_cpuid_entry2, ebx);
    OFF(CPUID_ECX, struct kvm_cpuid_entry2, ecx);
    OFF(CPUID_EDX, struct kvm_cpuid_entry2, edx);

    SIZE(KVM_XCRS_SIZE, struct kvm_xcrs);
    OFF(XCRS_NR, struct kvm_xcrs, nr_xcrs);
    OFF(XCRS_FLAGS, struct kvm_xcrs, flags);
    OFF(XCRS_ENTRIES, struct kvm_xcrs, xcrs);
    SIZE(KVM_XCR_SIZE, struct kvm_xcr);
    OFF(XCR_XCR, struct kvm_xcr, xcr);
    OFF(XCR_VALUE, struct kvm_xcr, value);

    SIZE(KVM_FPU_SIZE, struct kvm_fpu);
    SIZE(KVM_LAPIC_STATE_SIZE, struct kvm_lapic_state);
    SIZE(KVM_MP_STATE_SIZE, struct kvm_mp_state);
    SIZE(KVM_VCPU_EVENTS_SIZE, struct kvm_vcpu_events);
    SIZE(KVM_DEBUGREGS_SIZE, struct kvm_debugregs);
    SIZE(KVM_XSAVE_SIZE, struct kvm_xsave);
    SIZE(KVM_IRQCHIP_SIZE, struct kvm_irqchip);
    OFF(IRQCHIP_CHIP_ID, struct kvm_irqchip, chip_id);
    SIZE(KVM_CLOCK_DATA_SIZE, struct kvm_clock_data);
    OFF(CLOCK_DATA_CLOCK, struct kvm_clock_data, clock);
    OFF(CLOCK_DATA_FLAGS, struct kvm_clock_data, flags);

    SIZE(KVM_IRQFD_SIZE, struct kvm_irqfd);
    OFF(IRQFD_FD, struct kvm_irqfd, fd);
    OFF(IRQFD_GSI, struct kvm_irqfd, gsi);
    OFF(IRQFD_FLAGS, struct kvm_irqfd, flags);
    SIZE(KVM_IOEVENTFD_SIZE, struct kvm_ioeventfd);
    OFF(IOEVENTFD_DATAMATCH, struct kvm_ioeventfd, datamatch);
    OFF(IOEVENTFD_ADDR, struct kvm_ioeventfd, addr);
    OFF(IOEVENTFD_LEN, struct kvm_ioeventfd, len);
    OFF(IOEVENTFD_FD, struct kvm_ioeventfd, fd);
    OFF(IOEVENTFD_FLAGS, struct kvm_ioeventfd, flags);

    SIZE(SIGACTION_SIZE, struct sigaction);
    OFF(SIGACTION_HANDLER, struct sigaction, sa_handler);
    OFF(SIGACTION_FLAGS, struct sigaction, sa_flags);
    return 0;
}
