package dev.ferry.vmm.kvm;

/** One CPUID leaf ({@code struct kvm_cpuid_entry2}). */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {}
