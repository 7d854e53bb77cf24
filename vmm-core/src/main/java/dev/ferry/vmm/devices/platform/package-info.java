/** The platform device of the guest ABI: idle with a timeout, exit with a code, and a no-op ping. */
package dev.ferry.vmm.devices.platform;
