/**
 * The public face of the hypervisor core: {@link dev.ferry.vmm.Hypervisor} (is KVM usable, boot or restore a VM),
 * {@link dev.ferry.vmm.Vm} (run, pause, switch virtualization, capture) and {@link dev.ferry.vmm.Vcpu}.
 * Depends on every package below; knows nothing of actors or the network.
 */
package dev.ferry.vmm;
