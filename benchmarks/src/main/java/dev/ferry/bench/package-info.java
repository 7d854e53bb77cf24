/**
 * The figures programs, picked by {@link dev.ferry.bench.Benchmarks}. The core figures
 * ({@link dev.ferry.bench.CoreBench}) measure the Java/JNA hypervisor core side by side with the C reference VMM
 * ({@code benchmarks/native}, a plain KVM guest with no Ferry features); the migration figures
 * ({@link dev.ferry.bench.MigrateBench}) live-migrate a guest between two host agents on 127.0.0.1 beside the same
 * guest binary migrated between two QEMU processes; the checkpoint figures ({@link dev.ferry.bench.CheckpointBench})
 * measure checkpoint writing beside the disk's raw write bandwidth, restore, and incremental checkpoints. Each measures both sides in one run and prints the ratios.
 * Depends on the public APIs of {@code vmm-core} and {@code host-actor} ({@code LocalCluster}, {@code HostClient});
 * nothing depends on it.
 */
package dev.ferry.bench;
