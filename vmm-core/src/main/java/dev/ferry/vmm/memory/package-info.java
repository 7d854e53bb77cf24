/**
 * What guest RAM is: regions around the MMIO hole, a shared memory file mapped once, VMM reads and writes
 * (recorded, since KVM does not log them), page bitmaps and the dirty log. Depends on {@code kvm}.
 */
package dev.ferry.vmm.memory;
