package dev.ferry.vmm.kvm;

/** The general registers of a vCPU ({@code struct kvm_regs}). */
public record Regs(
        long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
        long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
        long rip, long rflags) {

    /** All zero but RFLAGS bit 1, which is reserved and always set. */
    public static Regs zero() {
        return new Regs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
    }

    public Regs withEntry(long rip, long rsp, long rdi, long rflags) {
        return new Regs(rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags);
    }

    long[] toArray() {
        return new long[] {rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags};
    }

    static Regs fromArray(long[] r) {
        return new Regs(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
                r[14], r[15], r[16], r[17]);
    }
}
