package dev.ferry.vmm.devices.virtio;

/** The driver broke the virtio contract; the device marks itself NEEDS_RESET. */
public final class VirtioException extends RuntimeException {
    public VirtioException(String message) {
        super(message);
    }
}
