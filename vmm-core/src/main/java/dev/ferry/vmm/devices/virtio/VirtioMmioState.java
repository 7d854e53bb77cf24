package dev.ferry.vmm.devices.virtio;

import java.util.List;

/**
 * Everything a driver can observe of a virtio-mmio device, and the selectors it set. For tests and for checking a
 * restored device; state capture never reads it (it sees only register accesses).
 */
public record VirtioMmioState(int status, int deviceFeaturesSel, int driverFeaturesSel, long driverFeatures,
                              int queueSel, List<QueueState> queues, int interruptStatus, int configGeneration) {
    public VirtioMmioState {
        queues = List.copyOf(queues);
    }
}
