package dev.ferry.capture.shadow;

import dev.ferry.capture.restore.Handling;
import dev.ferry.capture.restore.StateItem;
import java.util.List;

/** Builds report rows for shadowed registers. */
final class Reports {
    private Reports() {}

    static void register(List<StateItem> out, String device, String name, Reg r) {
        if (!r.known) {
            out.add(new StateItem(device, name, Handling.UNKNOWN_AFTER_GAP,
                    String.format("written while OFF and not readable; restored as 0x%x, the last value seen", r.value)));
        } else {
            out.add(new StateItem(device, name, r.readBack ? Handling.READ_BACK : Handling.TRACED,
                    String.format("0x%x", r.value)));
        }
    }
}
