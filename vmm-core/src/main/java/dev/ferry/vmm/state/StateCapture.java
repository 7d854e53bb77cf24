package dev.ferry.vmm.state;

import dev.ferry.vmm.kvm.KvmVcpu;
import dev.ferry.vmm.kvm.KvmVm;
import dev.ferry.vmm.kvm.MsrEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes {@link VcpuState} and {@link VmState} through the vCPU and VM handles.
 * The vCPU must be stopped (not inside KVM_RUN). Restore follows the order KVM needs: special registers
 * before general ones, XSAVE and XCRs, MSRs (which set the TSC), then MP state, LAPIC, events, debug registers.
 */
public final class StateCapture {
    private static final int IRQCHIP_COUNT = 3;

    private StateCapture() {}

    public static VcpuState capture(KvmVcpu vcpu, int[] savableMsrs) {
        List<MsrEntry> msrs = vcpu.getMsrs(savableMsrs);
        if (msrs.size() != savableMsrs.length) {
            throw new IllegalStateException("KVM_GET_MSRS read " + msrs.size() + " of " + savableMsrs.length
                    + " MSRs; stopped at 0x" + Integer.toHexString(savableMsrs[msrs.size()]));
        }
        return new VcpuState(vcpu.id(), vcpu.getRegs(), vcpu.getSregs(), vcpu.getXsave(), vcpu.getXcrs(), msrs,
                vcpu.getLapic(), vcpu.getVcpuEvents(), vcpu.getMpState(), vcpu.getDebugRegs(), vcpu.getTscKhz());
    }

    public static void restore(KvmVcpu vcpu, VcpuState state) {
        if (vcpu.getTscKhz() != state.tscKhz()) {
            vcpu.setTscKhz(state.tscKhz());
        }
        vcpu.setSregs(state.sregs());
        vcpu.setRegs(state.regs());
        vcpu.setXsave(state.xsave());
        vcpu.setXcrs(state.xcrs());
        int set = vcpu.setMsrs(state.msrs());
        if (set != state.msrs().size()) {
            throw new IllegalStateException("KVM_SET_MSRS accepted " + set + " of " + state.msrs().size()
                    + " MSRs; refused 0x" + Integer.toHexString(state.msrs().get(set).index()));
        }
        vcpu.setMpState(state.mpState());
        vcpu.setLapic(state.lapic());
        vcpu.setVcpuEvents(state.events());
        vcpu.setDebugRegs(state.debugRegs());
    }

    public static VmState capture(KvmVm vm) {
        List<byte[]> chips = new ArrayList<>(IRQCHIP_COUNT);
        for (int i = 0; i < IRQCHIP_COUNT; i++) {
            chips.add(vm.getIrqchip(i));
        }
        return new VmState(vm.getClock(), chips);
    }

    public static void restore(KvmVm vm, VmState state) {
        for (byte[] chip : state.irqchips()) {
            vm.setIrqchip(chip);
        }
        vm.setClock(state.clock());
    }
}
