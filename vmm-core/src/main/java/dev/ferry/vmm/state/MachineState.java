package dev.ferry.vmm.state;

import java.util.List;

/** The KVM-side state of a paused VM: VM-wide state and each vCPU's. Guest RAM and devices travel apart. */
public record MachineState(VmState vm, List<VcpuState> vcpus) {
    public MachineState {
        vcpus = List.copyOf(vcpus);
    }
}
