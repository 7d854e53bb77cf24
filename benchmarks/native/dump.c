/* Register dump for a guest that died, on stderr. */
#include <stdio.h>
#include <sys/ioctl.h>
#include "refvmm.h"

void dump_vcpu(const struct vm *vm)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(vm->vcpu, KVM_GET_REGS, &r) < 0 || ioctl(vm->vcpu, KVM_GET_SREGS, &s) < 0) {
        perror("refvmm: cannot read the vCPU registers");
        return;
    }
    fprintf(stderr,
            "  rip=%016llx rsp=%016llx rflags=%016llx\n"
            "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
            "  rsi=%016llx rdi=%016llx rbp=%016llx\n"
            "  cs=%04x ss=%04x cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n",
            r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
            s.cs.selector, s.ss.selector, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
}
