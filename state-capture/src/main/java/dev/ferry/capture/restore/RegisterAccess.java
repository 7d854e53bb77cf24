package dev.ferry.capture.restore;

import dev.ferry.vmm.bus.AddressSpace;

/** Host access to device registers (through the bus, never trap-logged): what resync and restore use. */
public interface RegisterAccess {
    long read(AddressSpace space, long address, int width);

    void write(AddressSpace space, long address, int width, long value);
}
