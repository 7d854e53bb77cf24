package dev.ferry.vmm.bus;

/**
 * A device as the bus sees it: registers at offsets from its base. The bus serializes all accesses,
 * so an implementation needs no locking of its own against vCPUs.
 */
public interface BusDevice {
    String name();

    /** A register read of {@code width} bytes (1, 2, 4 or 8) at {@code offset} from the device's base. */
    long read(AccessContext ctx, long offset, int width);

    /** A register write of {@code width} bytes at {@code offset} from the device's base. */
    void write(AccessContext ctx, long offset, int width, long value);
}
