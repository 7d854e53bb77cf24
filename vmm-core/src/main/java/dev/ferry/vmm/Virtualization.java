package dev.ferry.vmm;

/**
 * Whether the hypervisor is in the guest's path. OFF: no dirty logging, no trap log, devices only.
 * ON: every RAM slot logs dirty pages and every device-register access is appended to the trap log.
 */
public enum Virtualization {
    OFF,
    ON
}
