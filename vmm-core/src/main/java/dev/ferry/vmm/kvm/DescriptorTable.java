package dev.ferry.vmm.kvm;

/** GDTR or IDTR ({@code struct kvm_dtable}). */
public record DescriptorTable(long base, int limit) {}
