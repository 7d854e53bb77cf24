/**
 * KVM-side state of a VM and its vCPUs as records ({@link dev.ferry.vmm.state.MachineState}), and the order
 * in which it is read and written back. Device state and the checkpoint format live in state-capture.
 */
package dev.ferry.vmm.state;
