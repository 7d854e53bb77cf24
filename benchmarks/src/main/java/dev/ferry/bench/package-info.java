/**
 * The figures programs, picked by {@link dev.ferry.bench.Benchmarks}: the core figures
 * ({@link dev.ferry.bench.CoreBench}) measure the Java/JNA hypervisor core side by side with the C reference VMM
 * ({@code benchmarks/native}, a plain KVM guest with no Ferry features); the checkpoint figures
 * ({@link dev.ferry.bench.CheckpointBench}) measure checkpoint writing beside the disk's raw write bandwidth,
 * restore, and incremental checkpoints. Each prints its figures with their ratios and goals, all measured in one
 * run. Depends on the public APIs of {@code vmm-core} and {@code state-capture}; nothing depends on it.
 */
package dev.ferry.bench;
