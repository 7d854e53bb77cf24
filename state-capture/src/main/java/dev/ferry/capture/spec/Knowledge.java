package dev.ferry.capture.spec;

/** How the hypervisor can come to know a register's value without a device model. */
public enum Knowledge {
    /** Only from the writes it sees while virtualization is ON; unknown after an OFF period that wrote it. */
    TRACED_FROM_WRITES,
    /** The register can be read back without side effects (also after an OFF period). */
    READ_BACK,
    /** Not in the device's registers but in guest memory (virtqueue indices). */
    DERIVED_FROM_MEMORY,
    /** The device's own doing: status bits, FIFO contents, counters. Regenerated, quiesced away, or lost. */
    DEVICE_INTERNAL
}
