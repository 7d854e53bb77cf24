package dev.ferry.vmm.state;

import dev.ferry.vmm.kvm.MsrEntry;
import dev.ferry.vmm.kvm.Regs;
import dev.ferry.vmm.kvm.Sregs;
import dev.ferry.vmm.kvm.Xcr;
import java.util.List;

/**
 * Everything KVM exposes of one vCPU that a running guest depends on. The byte arrays are the kernel's
 * own structs ({@code kvm_xsave}, {@code kvm_lapic_state}, {@code kvm_vcpu_events}, {@code kvm_debugregs}),
 * which are stable ABI. The TSC travels as MSR 0x10 among {@code msrs}.
 */
public record VcpuState(int id, Regs regs, Sregs sregs, byte[] xsave, List<Xcr> xcrs, List<MsrEntry> msrs,
                        byte[] lapic, byte[] events, int mpState, byte[] debugRegs, long tscKhz) {
    public static final int MSR_IA32_TSC = 0x10;

    public VcpuState {
        xsave = xsave.clone();
        lapic = lapic.clone();
        events = events.clone();
        debugRegs = debugRegs.clone();
        xcrs = List.copyOf(xcrs);
        msrs = List.copyOf(msrs);
    }

    @Override
    public byte[] xsave() {
        return xsave.clone();
    }

    @Override
    public byte[] lapic() {
        return lapic.clone();
    }

    @Override
    public byte[] events() {
        return events.clone();
    }

    @Override
    public byte[] debugRegs() {
        return debugRegs.clone();
    }

    /** The guest's TSC at capture time. */
    public long tsc() {
        return msrs.stream().filter(m -> m.index() == MSR_IA32_TSC).mapToLong(MsrEntry::value).findFirst()
                .orElseThrow(() -> new IllegalStateException("vCPU state holds no TSC (MSR 0x10)"));
    }
}
