package dev.ferry.vmm.bus;

import dev.ferry.vmm.kvm.EventFd;

/**
 * A device register whose guest writes only need to wake the device: KVM can signal {@code eventFd} for
 * them without a userspace exit (KVM_IOEVENTFD) while virtualization is OFF. While ON, the write exits,
 * is trapped like any other access, and the device signals the same eventfd itself.
 */
public record Doorbell(AddressSpace space, long address, int width, EventFd eventFd) {}
