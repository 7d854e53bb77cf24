package dev.ferry.vmm.bus;

/** The two spaces a device's registers live in on x86: port I/O and memory-mapped I/O. */
public enum AddressSpace {
    PIO,
    MMIO
}
