package dev.ferry.capture.spec;

/** How the guest may touch a register, as the device's specification says. */
public enum Access {
    /** Read and write; reads return what was written, possibly changed by the device. */
    RW,
    /** Read only: status or constant. */
    RO,
    /** Write only in the specification (the device may still answer reads; see {@link Knowledge}). */
    WO,
    /** Writing a 1 bit clears that bit of another register (acknowledge). */
    W1C
}
