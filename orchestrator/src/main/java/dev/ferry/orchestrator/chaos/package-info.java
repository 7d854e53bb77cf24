/**
 * The chaos runner behind {@code ferry chaos run}: a local cluster of JVMs, a schedule of operations and faults drawn
 * from a seed ({@link dev.ferry.orchestrator.chaos.Schedule}, a pure function of the options), the faults themselves
 * (kill -9, network partitions through namespaces, a delaying and dropping link, a full disk) and the invariants
 * checked while it runs and at the end. Depends on the orchestrator's client and on {@code dev.ferry.host.local}; the
 * CLI ({@code dev.ferry.cli}) depends on it, nothing else does.
 */
package dev.ferry.orchestrator.chaos;
