/**
 * The checkpoint file: a versioned, self-describing container of typed, checksummed sections (META, MACHINE,
 * MEMORY, DEVICE, TRAPLOG) that carries a paused VM to disk and back, whole ({@code full}) or as the pages
 * dirtied since a parent ({@code incremental}). {@link dev.ferry.capture.checkpoint.CheckpointWriter} writes
 * one atomically; {@link dev.ferry.capture.checkpoint.CheckpointReader} refuses any file it cannot fully
 * verify with a {@link dev.ferry.capture.checkpoint.CheckpointFormatException}, and
 * {@link dev.ferry.capture.checkpoint.CheckpointChain} restores a chain. The byte layout is in the module README.
 * Depends on vmm-core (memory, state records) and protocol ({@code machine.proto}); nothing here knows of actors.
 */
package dev.ferry.capture.checkpoint;
