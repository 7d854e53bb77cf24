package dev.ferry.vmm.state;

import dev.ferry.vmm.kvm.ClockData;
import java.util.List;

/** VM-wide KVM state: the kvmclock and the in-kernel interrupt controllers ({@code struct kvm_irqchip} each). */
public record VmState(ClockData clock, List<byte[]> irqchips) {
    public VmState {
        irqchips = irqchips.stream().map(byte[]::clone).toList();
    }

    @Override
    public List<byte[]> irqchips() {
        return irqchips.stream().map(byte[]::clone).toList();
    }
}
