package dev.ferry.capture.restore;

/** One step of a restore plan: a register write at an offset from the device's base, with the reason for it. */
public record RegisterWrite(long offset, int width, long value, String note) {
    @Override
    public String toString() {
        return String.format("+0x%03x/%d <- 0x%x  %s", offset, width, value, note);
    }
}
