/**
 * The core figures program ({@link dev.ferry.bench.CoreBench}): measures the Java/JNA hypervisor core side by side
 * with the C reference VMM ({@code benchmarks/native}, a plain KVM guest with no Ferry features) in one run, and
 * prints the figures with their ratios. Depends on {@code vmm-core}'s public API only; nothing depends on it.
 */
package dev.ferry.bench;
