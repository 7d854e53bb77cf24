package dev.ferry.capture.shadow;

/** A shadowed register value and whether the hypervisor actually knows it (after an OFF period it may not). */
final class Reg {
    long value;
    boolean known;
    boolean readBack;
    final long resetValue;

    Reg(long resetValue) {
        this.resetValue = resetValue;
        reset();
    }

    void reset() {
        value = resetValue;
        known = true;
        readBack = false;
    }

    /** Learned from a trapped write (or a trapped read by the guest). */
    void set(long v) {
        value = v;
        known = true;
        readBack = false;
    }

    /** Learned by reading the device back after an OFF period. */
    void setReadBack(long v) {
        value = v;
        known = true;
        readBack = true;
    }

    void forget() {
        known = false;
    }

    Long orNull() {
        return known ? value : null;
    }
}
