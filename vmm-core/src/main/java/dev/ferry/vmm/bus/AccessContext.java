package dev.ferry.vmm.bus;

/**
 * What a device sees of the vCPU that touched it. Requests take effect after the access completes,
 * outside the bus, so a device never blocks the bus while the vCPU idles.
 */
public interface AccessContext {
    int vcpuId();

    /** Park the vCPU for at most {@code nanos} once this access completes (it wakes early to pause or stop). */
    void requestIdle(long nanos);

    /** End the VM with {@code code} once this access completes. */
    void requestExit(int code);
}
