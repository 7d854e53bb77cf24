/** The host's journal and the room it needs on the host's data disk. */
package dev.ferry.host.journal;
