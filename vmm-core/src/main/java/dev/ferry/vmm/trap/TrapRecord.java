package dev.ferry.vmm.trap;

import dev.ferry.vmm.bus.AddressSpace;

/**
 * One device-register access seen while virtualization was ON. {@code seq} is unique and increasing for the
 * VM's life (a jump in it never happens; a gap in time between two records means virtualization was OFF).
 * For reads, {@code value} is what the device answered; {@code timeNanos} is {@link System#nanoTime()}.
 */
public record TrapRecord(long seq, int vcpu, AddressSpace space, long address, int width,
                         AccessDirection direction, long value, long timeNanos) {
    @Override
    public String toString() {
        return String.format("#%d vcpu%d %s %s 0x%x/%d = 0x%x", seq, vcpu, space, direction, address, width, value);
    }
}
