/**
 * The trap log: device-register accesses recorded while virtualization is ON, with listeners that receive them
 * in order. Depends on nothing but {@code bus.AddressSpace}.
 */
package dev.ferry.vmm.trap;
