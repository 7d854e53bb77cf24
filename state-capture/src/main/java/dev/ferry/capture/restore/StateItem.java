package dev.ferry.capture.restore;

/** One row of a state report: a piece of a device's state, how it is handled, and why. */
public record StateItem(String device, String state, Handling handling, String detail) {
    @Override
    public String toString() {
        return device + " " + state + ": " + handling + (detail.isEmpty() ? "" : " (" + detail + ")");
    }
}
