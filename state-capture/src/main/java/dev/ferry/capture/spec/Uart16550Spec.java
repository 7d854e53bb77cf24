package dev.ferry.capture.spec;

import static dev.ferry.capture.spec.Access.*;
import static dev.ferry.capture.spec.Knowledge.*;

import dev.ferry.vmm.bus.AddressSpace;
import java.util.List;

/** The 16550A UART's registers (National Semiconductor PC16550D data sheet), as state capture sees them. */
public final class Uart16550Spec {
    public static final DeviceSpec SPEC = new DeviceSpec("uart16550a", AddressSpace.PIO, 8, List.of(
            RegisterSpec.of("RBR", 0, 1, RO, DEVICE_INTERNAL).banked("DLAB=0")
                    .effects("reading pops the receive FIFO; never read by state capture"),
            RegisterSpec.of("THR", 0, 1, WO, DEVICE_INTERNAL).banked("DLAB=0")
                    .effects("transmits a byte; no lasting state (THR empties at once)"),
            RegisterSpec.of("DLL", 0, 1, RW, READ_BACK).banked("DLAB=1"),
            RegisterSpec.of("IER", 1, 1, RW, READ_BACK).banked("DLAB=0")
                    .effects("enabling the THR-empty interrupt while THR is empty raises it"),
            RegisterSpec.of("DLM", 1, 1, RW, READ_BACK).banked("DLAB=1"),
            RegisterSpec.of("IIR", 2, 1, RO, DEVICE_INTERNAL)
                    .effects("reading acknowledges a pending THR-empty interrupt; never read by state capture"),
            RegisterSpec.of("FCR", 2, 1, WO, TRACED_FROM_WRITES)
                    .effects("bits 1-2 clear the FIFOs and self-clear; bit 0 enables FIFOs, bits 6-7 trigger level"),
            RegisterSpec.of("LCR", 3, 1, RW, READ_BACK).effects("bit 7 (DLAB) banks offsets 0-1"),
            RegisterSpec.of("MCR", 4, 1, RW, READ_BACK),
            RegisterSpec.of("LSR", 5, 1, RO, DEVICE_INTERNAL).effects("reading clears the overrun bit"),
            RegisterSpec.of("MSR", 6, 1, RO, DEVICE_INTERNAL),
            RegisterSpec.of("SCR", 7, 1, RW, READ_BACK)),
            List.of("LCR with DLAB set before DLL and DLM", "LCR without DLAB before IER (same offset as DLM)",
                    "FCR with the FIFO-clear bits, so the restored FIFOs start empty", "MCR, SCR",
                    "LCR last, with its final DLAB bit"));

    private Uart16550Spec() {}
}
