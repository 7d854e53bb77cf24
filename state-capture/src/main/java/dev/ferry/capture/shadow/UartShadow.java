package dev.ferry.capture.shadow;

import dev.ferry.capture.restore.Handling;
import dev.ferry.capture.restore.RegisterAccess;
import dev.ferry.capture.restore.RegisterWrite;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.restore.StateItem;
import dev.ferry.capture.spec.DeviceSpec;
import dev.ferry.capture.spec.Uart16550Spec;
import dev.ferry.vmm.trap.AccessDirection;
import dev.ferry.vmm.trap.TrapRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The hypervisor's knowledge of a 16550A, from trapped accesses. Resync reads back LCR, MCR, SCR, IER and the divisor
 * latch (toggling DLAB and restoring it), and never reads RBR, IIR or LSR, whose reads have side effects.
 */
public final class UartShadow extends ShadowBase {
    private static final int DLAB = 0x80;

    final Reg ier = new Reg(0);
    final Reg lcr = new Reg(0);
    final Reg mcr = new Reg(0);
    final Reg scr = new Reg(0);
    final Reg dll = new Reg(0);
    final Reg dlm = new Reg(0);
    final Reg fcr = new Reg(0);

    public UartShadow(String name, long base) {
        super(Uart16550Spec.SPEC, name, base);
    }

    private boolean dlab() {
        return lcr.known && (lcr.value & DLAB) != 0;
    }

    @Override
    public void apply(TrapRecord r, long offset) {
        int v = (int) r.value() & 0xFF;
        boolean write = r.direction() == AccessDirection.WRITE;
        switch ((int) offset) {
            case 0 -> {
                if (dlab()) {
                    dll.set(v);
                } else if (!lcr.known && write) {
                    dll.forget();
                }
            }
            case 1 -> {
                if (dlab()) {
                    dlm.set(v);
                } else if (lcr.known) {
                    ier.set(v & 0x0F);
                } else {
                    ier.forget();
                    dlm.forget();
                }
            }
            case 2 -> {
                if (write) {
                    fcr.set(v & 0xC9);
                }
            }
            case 3 -> lcr.set(v);
            case 4 -> mcr.set(v & 0x1F);
            case 7 -> scr.set(v);
            default -> { }
        }
    }

    @Override
    public void forgetAfterGap() {
        for (Reg r : List.of(ier, lcr, mcr, scr, dll, dlm, fcr)) {
            r.forget();
        }
    }

    @Override
    public void resync(RegisterAccess a) {
        var space = spec().space();
        long l = a.read(space, base + 3, 1);
        lcr.setReadBack(l);
        mcr.setReadBack(a.read(space, base + 4, 1));
        scr.setReadBack(a.read(space, base + 7, 1));
        a.write(space, base + 3, 1, l | DLAB);
        dll.setReadBack(a.read(space, base, 1));
        dlm.setReadBack(a.read(space, base + 1, 1));
        a.write(space, base + 3, 1, l & ~DLAB);
        ier.setReadBack(a.read(space, base + 1, 1));
        a.write(space, base + 3, 1, l);
    }

    @Override
    public RestorePlan plan() {
        List<RegisterWrite> w = new ArrayList<>();
        w.add(new RegisterWrite(3, 1, DLAB, "LCR: DLAB on, to reach the divisor latch"));
        w.add(new RegisterWrite(0, 1, dll.value, "DLL"));
        w.add(new RegisterWrite(1, 1, dlm.value, "DLM"));
        w.add(new RegisterWrite(3, 1, lcr.value & ~DLAB, "LCR: DLAB off, to reach IER"));
        w.add(new RegisterWrite(1, 1, ier.value, "IER"));
        w.add(new RegisterWrite(2, 1, (fcr.value & 0xC9) | 0x06, "FCR, clearing both FIFOs"));
        w.add(new RegisterWrite(4, 1, mcr.value, "MCR"));
        w.add(new RegisterWrite(7, 1, scr.value, "SCR"));
        w.add(new RegisterWrite(3, 1, lcr.value, "LCR, final"));
        List<StateItem> report = new ArrayList<>();
        Reports.register(report, name, "DLL", dll);
        Reports.register(report, name, "DLM", dlm);
        Reports.register(report, name, "IER", ier);
        Reports.register(report, name, "LCR", lcr);
        Reports.register(report, name, "MCR", mcr);
        Reports.register(report, name, "SCR", scr);
        if (fcr.known) {
            report.add(new StateItem(name, "FCR", Handling.TRACED, String.format("0x%x", fcr.value)));
        } else {
            report.add(new StateItem(name, "FCR", Handling.UNKNOWN_AFTER_GAP, String.format(
                    "write-only and written while OFF; restored as 0x%x, the last value seen (FIFO enable and "
                            + "trigger level; only interrupt timing depends on it)", fcr.value)));
        }
        report.add(new StateItem(name, "LSR, MSR, IIR", Handling.REGENERATED_BY_HARDWARE,
                "status: a reset UART has THR empty and no data, as a quiesced one does"));
        report.add(new StateItem(name, "THR-empty interrupt pending", Handling.REGENERATED_BY_HARDWARE,
                "raised again when IER enables it with THR empty"));
        report.add(new StateItem(name, "receive FIFO", Handling.LOST,
                "bytes the host queued that the guest had not read; Ferry's console queues none"));
        return new RestorePlan(name, spec().kind(), spec().space(), base, w, report);
    }
}
