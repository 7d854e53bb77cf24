package dev.ferry.capture.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.capture.restore.Handling;
import dev.ferry.capture.restore.PlanExecutor;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.bus.BusDevice;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.devices.uart.Uart16550;
import dev.ferry.vmm.devices.uart.UartState;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random driver sequences against a real 16550A model with virtualization switched ON and OFF at random points:
 * while ON the shadow equals the device's true state in everything traceable, and a restore plan brings a fresh
 * device to the same state in everything restorable.
 */
class UartShadowPropertiesTest {
    private static final long BASE = Uart16550.COM1;

    /** One guest action: a register write, a register read, or a virtualization switch. */
    record Action(int kind, int offset, int value) {}

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> a = Combinators.combine(Arbitraries.integers().between(0, 9),
                Arbitraries.integers().between(0, 7), Arbitraries.integers().between(0, 255)).as(Action::new);
        return a.list().ofMinSize(1).ofMaxSize(60);
    }

    private static UartState traceable(UartState s) {
        return new UartState(s.ier(), s.lcr(), s.mcr(), 0, 0, s.scr(), s.dll(), s.dlm(), 0, false, new byte[0]);
    }

    @Property(tries = 300)
    void shadowMatchesTruthWhileOnAndRestoreReproducesIt(@ForAll("actions") List<Action> actions) {
        Bench bench = new Bench();
        Uart16550 uart = new Uart16550(new ConsoleOutput());
        bench.bus.register(AddressSpace.PIO, BASE, 8, uart);
        UartShadow shadow = new UartShadow("uart", BASE);
        DeviceCapture.attach(bench.log, bench.hostAccess(), false, List.of(shadow));
        BusDevice guest = bench.guestView(AddressSpace.PIO, BASE);
        boolean on = false;
        for (Action a : actions) {
            if (a.kind() == 9) {
                on = !on;
                bench.bus.setTrapping(on);
            } else if (a.kind() < 5) {
                guest.write(Bench.GUEST, a.offset(), 1, a.value());
            } else {
                guest.read(Bench.GUEST, a.offset(), 1);
            }
            if (on) {
                assertShadowMatches(shadow, uart.state());
            }
        }
        if (!on) {
            bench.bus.setTrapping(true);
        }
        UartState truth = uart.state();
        assertShadowMatches(shadow, truth);

        RestorePlan plan = shadow.plan();
        Bench fresh = new Bench();
        Uart16550 restored = new Uart16550(new ConsoleOutput());
        fresh.bus.register(AddressSpace.PIO, BASE, 8, restored);
        PlanExecutor.apply(plan, fresh.hostAccess());
        assertEquals(traceable(truth), traceable(restored.state()), "restored registers; plan: " + plan.writes());
        boolean fcrKnown = plan.report().stream().noneMatch(i -> i.state().equals("FCR")
                && i.handling() == Handling.UNKNOWN_AFTER_GAP);
        if (fcrKnown) {
            assertEquals(truth.fcr() & 0xC9, restored.state().fcr() & 0xC9, "FCR");
        }
    }

    private static void assertShadowMatches(UartShadow s, UartState t) {
        assertEquals(t.lcr(), s.lcr.value, "LCR");
        assertEquals(t.ier(), s.ier.value, "IER");
        assertEquals(t.mcr(), s.mcr.value, "MCR");
        assertEquals(t.scr(), s.scr.value, "SCR");
        assertEquals(t.dll(), s.dll.value, "DLL");
        assertEquals(t.dlm(), s.dlm.value, "DLM");
        if (s.fcr.known) {
            assertEquals(t.fcr() & 0xC9, s.fcr.value, "FCR");
        }
    }
}
