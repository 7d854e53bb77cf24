package dev.ferry.vmm;

/** The outcome of switching virtualization: the new mode and how long the guest was paused for it. */
public record SwitchReport(Virtualization mode, long pausedNanos) {
    public double pausedMillis() {
        return pausedNanos / 1e6;
    }
}
