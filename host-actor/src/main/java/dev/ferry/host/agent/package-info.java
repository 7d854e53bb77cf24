/** The host agent: an event-sourced actor (protobuf events in the node's LevelDB journal) that owns this host's VMs. */
package dev.ferry.host.agent;
