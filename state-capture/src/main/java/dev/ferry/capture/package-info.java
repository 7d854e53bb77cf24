/**
 * State capture: what the hypervisor can know of a device from the register accesses it traps, how to bring a
 * fresh device to the same state, and the checkpoint format that carries a whole VM. Depends on vmm-core and
 * protocol; knows nothing of actors or the network.
 */
package dev.ferry.capture;
