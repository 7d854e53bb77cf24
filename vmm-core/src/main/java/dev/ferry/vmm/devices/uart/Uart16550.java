package dev.ferry.vmm.devices.uart;

import dev.ferry.vmm.bus.AccessContext;
import dev.ferry.vmm.bus.BusDevice;
import dev.ferry.vmm.console.ConsoleOutput;
import java.util.ArrayDeque;
import java.util.function.IntConsumer;

/**
 * A 16550A UART, the guest's console: eight byte-wide registers (with the divisor latch behind DLAB),
 * a 16-byte receive FIFO, and the interrupt identification logic. Transmission is instantaneous:
 * a byte written to THR goes to the {@link ConsoleOutput} at once and THR reads empty again.
 */
public final class Uart16550 implements BusDevice {
    public static final int COM1 = 0x3F8;
    public static final int REGISTER_COUNT = 8;

    static final int RBR_THR_DLL = 0;
    static final int IER_DLM = 1;
    static final int IIR_FCR = 2;
    static final int LCR = 3;
    static final int MCR = 4;
    static final int LSR = 5;
    static final int MSR = 6;
    static final int SCR = 7;

    static final int LCR_DLAB = 0x80;
    static final int LSR_DR = 0x01;
    static final int LSR_OE = 0x02;
    static final int LSR_THRE = 0x20;
    static final int LSR_TEMT = 0x40;
    static final int MCR_LOOP = 0x10;
    static final int IIR_NONE = 0x01;
    static final int FIFO_SIZE = 16;

    private final ConsoleOutput output;
    private final ArrayDeque<Byte> rx = new ArrayDeque<>();
    private IntConsumer irqLine = level -> {};
    private int ier;
    private int lcr;
    private int mcr;
    private int lsr = LSR_THRE | LSR_TEMT;
    private int msr;
    private int scr;
    private int dll;
    private int dlm;
    private int fcr;
    private boolean thrEmptyPending;
    private long transmitted;

    public Uart16550(ConsoleOutput output) {
        this.output = output;
    }

    @Override
    public String name() {
        return "uart16550";
    }

    /** Where the UART drives its interrupt line (level 1 = asserted). */
    public synchronized void connectIrq(IntConsumer line) {
        this.irqLine = line;
        updateIrq();
    }

    @Override
    public synchronized long read(AccessContext ctx, long offset, int width) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        return switch ((int) offset) {
            case RBR_THR_DLL -> dlab ? dll : receiveByte();
            case IER_DLM -> dlab ? dlm : ier;
            case IIR_FCR -> readIir();
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> {
                int v = lsr;
                lsr &= ~LSR_OE;
                yield v;
            }
            case MSR -> (mcr & MCR_LOOP) != 0 ? loopbackMsr() : msr;
            case SCR -> scr;
            default -> 0xFF;
        };
    }

    @Override
    public synchronized void write(AccessContext ctx, long offset, int width, long value) {
        int v = (int) value & 0xFF;
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch ((int) offset) {
            case RBR_THR_DLL -> {
                if (dlab) {
                    dll = v;
                } else {
                    transmit(v);
                }
            }
            case IER_DLM -> {
                if (dlab) {
                    dlm = v;
                } else {
                    boolean thrIntNewlyOn = (ier & 0x02) == 0 && (v & 0x02) != 0;
                    ier = v & 0x0F;
                    if (thrIntNewlyOn && (lsr & LSR_THRE) != 0) {
                        thrEmptyPending = true;
                    }
                }
            }
            case IIR_FCR -> {
                fcr = v & 0xC9;
                if ((v & 0x02) != 0) {
                    rx.clear();
                    lsr &= ~LSR_DR;
                }
            }
            case LCR -> lcr = v;
            case MCR -> mcr = v & 0x1F;
            case SCR -> scr = v;
            default -> { }
        }
        updateIrq();
    }

    private void transmit(int b) {
        transmitted++;
        thrEmptyPending = false;
        if ((mcr & MCR_LOOP) != 0) {
            enqueue((byte) b);
        } else {
            output.accept(b);
        }
        lsr |= LSR_THRE | LSR_TEMT;
        thrEmptyPending = (ier & 0x02) != 0;
    }

    private int receiveByte() {
        if (rx.isEmpty()) {
            return 0;
        }
        int b = rx.poll() & 0xFF;
        if (rx.isEmpty()) {
            lsr &= ~LSR_DR;
        }
        updateIrq();
        return b;
    }

    private int readIir() {
        int id = pendingInterrupt();
        if (id == 0x02) {
            thrEmptyPending = false;
            updateIrq();
        }
        int fifoBits = (fcr & 0x01) != 0 ? 0xC0 : 0;
        return id | fifoBits;
    }

    private int pendingInterrupt() {
        if ((ier & 0x04) != 0 && (lsr & LSR_OE) != 0) {
            return 0x06;
        }
        if ((ier & 0x01) != 0 && (lsr & LSR_DR) != 0) {
            return 0x04;
        }
        if ((ier & 0x02) != 0 && thrEmptyPending) {
            return 0x02;
        }
        return IIR_NONE;
    }

    private int loopbackMsr() {
        int m = mcr;
        return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4);
    }

    private void enqueue(byte b) {
        int cap = (fcr & 0x01) != 0 ? FIFO_SIZE : 1;
        if (rx.size() >= cap) {
            lsr |= LSR_OE;
        } else {
            rx.add(b);
            lsr |= LSR_DR;
        }
    }

    private void updateIrq() {
        irqLine.accept(pendingInterrupt() != IIR_NONE && (mcr & 0x08) != 0 ? 1 : 0);
    }

    /** Bytes typed into the console by the host, for the guest to read from RBR. */
    public synchronized void receive(byte[] data) {
        for (byte b : data) {
            enqueue(b);
        }
        updateIrq();
    }

    public synchronized long transmittedBytes() {
        return transmitted;
    }

    /** The device's true internal state. For tests and for checking a restored device, not for capture. */
    public synchronized UartState state() {
        byte[] fifo = new byte[rx.size()];
        int i = 0;
        for (Byte b : rx) {
            fifo[i++] = b;
        }
        return new UartState(ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr, thrEmptyPending, fifo);
    }
}
