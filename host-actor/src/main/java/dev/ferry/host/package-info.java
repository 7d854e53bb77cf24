/**
 * A host node: settings, the node's main, and its parts: {@code agent} (the event-sourced host agent),
 * {@code migration} (the live-migration data plane), {@code client} (asking agents), {@code local} (local clusters).
 * Depends on vmm-core, state-capture and protocol; blocking work runs on the blocking dispatcher or own threads.
 */
package dev.ferry.host;
