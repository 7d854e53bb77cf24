package dev.ferry.vmm.devices.uart;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.vmm.bus.AccessContext;
import dev.ferry.vmm.console.ConsoleOutput;
import java.util.List;
import org.junit.jupiter.api.Test;

class Uart16550Test {
    private static final AccessContext CPU = new AccessContext() {
        @Override
        public int vcpuId() {
            return 0;
        }

        @Override
        public void requestIdle(long nanos) {}

        @Override
        public void requestExit(int code) {}
    };

    private final ConsoleOutput console = new ConsoleOutput();
    private final Uart16550 uart = new Uart16550(console);

    private void out(int reg, int v) {
        uart.write(CPU, reg, 1, v);
    }

    private int in(int reg) {
        return (int) uart.read(CPU, reg, 1);
    }

    @Test
    void transmitsBytesAsConsoleLinesAndStaysReady() {
        for (char c : "hi\r\nthere\n".toCharArray()) {
            assertEquals(0x60, in(Uart16550.LSR) & 0x60);
            out(Uart16550.RBR_THR_DLL, c);
        }
        assertEquals(List.of("hi", "there"), console.recentLines());
    }

    @Test
    void divisorLatchHidesBehindDlabAndDoesNotTransmit() {
        out(Uart16550.LCR, 0x80);
        out(Uart16550.RBR_THR_DLL, 0x0C);
        out(Uart16550.IER_DLM, 0x01);
        out(Uart16550.LCR, 0x03);
        assertEquals(0, console.byteCount());
        assertEquals(0, in(Uart16550.IER_DLM), "IER is not the DLM");
        out(Uart16550.LCR, 0x83);
        assertEquals(0x0C, in(Uart16550.RBR_THR_DLL));
        assertEquals(0x01, in(Uart16550.IER_DLM));
        UartState s = uart.state();
        assertEquals(0x0C, s.dll());
        assertEquals(0x83, s.lcr());
    }

    @Test
    void thrEmptyInterruptIsIdentifiedAndClearedByReadingIir() {
        assertEquals(0x01, in(Uart16550.IIR_FCR) & 0x0F, "no interrupt pending");
        out(Uart16550.IER_DLM, 0x02);
        assertEquals(0x02, in(Uart16550.IIR_FCR) & 0x0F);
        assertEquals(0x01, in(Uart16550.IIR_FCR) & 0x0F, "reading IIR acknowledged it");
        out(Uart16550.RBR_THR_DLL, 'x');
        assertEquals(0x02, in(Uart16550.IIR_FCR) & 0x0F, "THR empty again after the byte went out");
    }

    @Test
    void loopbackFeedsTheReceiveFifoAndOverrunsWithoutFifo() {
        out(Uart16550.MCR, 0x10);
        out(Uart16550.RBR_THR_DLL, 'a');
        out(Uart16550.RBR_THR_DLL, 'b');
        assertEquals(0x03, in(Uart16550.LSR) & 0x03, "data ready and overrun (1-byte holding register)");
        assertEquals(0x01, in(Uart16550.LSR) & 0x03, "reading LSR cleared the overrun");
        assertEquals('a', in(Uart16550.RBR_THR_DLL));
        assertEquals(0, in(Uart16550.LSR) & 0x01);
        out(Uart16550.IIR_FCR, 0x07);
        for (int i = 0; i < 16; i++) {
            out(Uart16550.RBR_THR_DLL, '0' + i);
        }
        assertEquals(0, in(Uart16550.LSR) & 0x02, "sixteen bytes fit the FIFO");
        assertEquals(0xC0, in(Uart16550.IIR_FCR) & 0xC0, "FIFO enabled bits");
        assertEquals(16, uart.state().rxFifo().length);
    }

    @Test
    void scratchRegisterHoldsItsValue() {
        out(Uart16550.SCR, 0x5A);
        assertEquals(0x5A, in(Uart16550.SCR));
    }
}
