package dev.ferry.capture.restore;

/** What happens to one piece of device state across capture and restore. */
public enum Handling {
    /** Known from trapped writes and restored by writing it. */
    TRACED,
    /** Read back from the device after an OFF period and restored by writing it. */
    READ_BACK,
    /** Known from guest memory; the restored device reads it from there itself. */
    DERIVED_FROM_MEMORY,
    /** Not restorable by register writes, but the device produces it again (status bits, interrupt status). */
    REGENERATED_BY_HARDWARE,
    /** In-flight work completed before capture, so there is nothing to carry. */
    QUIESCED,
    /** Cannot be known or restored; said so (statistics counters, bytes the host never delivered). */
    LOST,
    /** Written while virtualization was OFF and not readable: restored from the last value seen, or the default. */
    UNKNOWN_AFTER_GAP
}
