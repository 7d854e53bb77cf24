package dev.ferry.vmm.devices.virtio;

/**
 * One virtqueue as the transport knows it: size, ready, the three ring addresses, and the device's next
 * position in the available ring. That position is never guest-visible state: the device takes it from the
 * used ring when the queue becomes ready, which is correct because it completes every request it takes.
 */
public record QueueState(int size, boolean ready, long desc, long driver, long device, int nextAvail) {
    public static QueueState reset() {
        return new QueueState(0, false, 0, 0, 0, 0);
    }
}
