package dev.ferry.vmm.kvm;

/** The VM's kvmclock ({@code struct kvm_clock_data}): nanoseconds and flags. */
public record ClockData(long clock, int flags) {}
