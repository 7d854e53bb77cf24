/** A 16550A UART (COM1), the guest console; its observable state is {@link dev.ferry.vmm.devices.uart.UartState}. */
package dev.ferry.vmm.devices.uart;
