/**
 * The device bus: devices claim port or MMIO ranges and see register accesses; while virtualization is ON the
 * bus appends each access to the trap log. Depends on {@code trap}.
 */
package dev.ferry.vmm.bus;
