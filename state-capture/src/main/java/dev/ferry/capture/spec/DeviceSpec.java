package dev.ferry.capture.spec;

import dev.ferry.vmm.bus.AddressSpace;
import java.util.List;

/**
 * A device type's registers as data, and the ordering rules a restore must follow (written in prose for people,
 * and enforced by the restore plan the device's shadow builds).
 */
public record DeviceSpec(String kind, AddressSpace space, long size, List<RegisterSpec> registers,
                         List<String> restoreOrder) {
    public DeviceSpec {
        registers = List.copyOf(registers);
        restoreOrder = List.copyOf(restoreOrder);
    }

    public RegisterSpec register(String name) {
        return registers.stream().filter(r -> r.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(kind + " has no register " + name));
    }
}
