package dev.ferry.vmm.devices.virtio;

/** What a virtio device type adds to the transport: its identity, features, config space and request handling. */
public interface VirtioBackend extends AutoCloseable {
    int deviceId();

    /** The 64 feature bits the device offers (the transport adds VIRTIO_F_VERSION_1). */
    long features();

    int queueCount();

    int queueMaxSize();

    /** A read of {@code width} bytes at {@code offset} in the device-specific configuration space. */
    long readConfig(int offset, int width);

    /**
     * Serves one request: the descriptor chain starting at {@code chain}'s head. Returns the number of bytes
     * written into device-writable buffers (the used ring's {@code len}).
     */
    int serve(int queue, DescriptorChain chain);

    @Override
    void close();
}
