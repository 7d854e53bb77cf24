package dev.ferry.vmm.kvm;

/** One extended control register ({@code struct kvm_xcr}); XCR0 is the XSAVE feature mask. */
public record Xcr(int index, long value) {}
