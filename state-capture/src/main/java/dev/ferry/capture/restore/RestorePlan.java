package dev.ferry.capture.restore;

import dev.ferry.vmm.bus.AddressSpace;
import java.util.List;

/**
 * How to bring a freshly reset device to a captured state: register writes in an order the device's specification
 * allows, applied after guest memory is restored and before the vCPUs start; and the report of every piece of
 * state and how it is handled.
 */
public record RestorePlan(String device, String kind, AddressSpace space, long base, List<RegisterWrite> writes,
                          List<StateItem> report) {
    public RestorePlan {
        writes = List.copyOf(writes);
        report = List.copyOf(report);
    }
}
