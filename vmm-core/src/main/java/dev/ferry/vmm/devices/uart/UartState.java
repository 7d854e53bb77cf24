package dev.ferry.vmm.devices.uart;

/**
 * Everything a guest can observe of a 16550A: its registers, whether a THR-empty interrupt is pending
 * (cleared by reading IIR), and the bytes waiting in the receive FIFO.
 */
public record UartState(int ier, int lcr, int mcr, int lsr, int msr, int scr, int dll, int dlm, int fcr,
                        boolean thrEmptyInterruptPending, byte[] rxFifo) {
    public UartState {
        rxFifo = rxFifo.clone();
    }

    @Override
    public byte[] rxFifo() {
        return rxFifo.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UartState u && ier == u.ier && lcr == u.lcr && mcr == u.mcr && lsr == u.lsr
                && msr == u.msr && scr == u.scr && dll == u.dll && dlm == u.dlm && fcr == u.fcr
                && thrEmptyInterruptPending == u.thrEmptyInterruptPending && java.util.Arrays.equals(rxFifo, u.rxFifo);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr, thrEmptyInterruptPending)
                * 31 + java.util.Arrays.hashCode(rxFifo);
    }
}
