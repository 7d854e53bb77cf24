package dev.ferry.capture.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.capture.shadow.UartShadow;
import dev.ferry.vmm.bus.AddressSpace;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class RestorePlanCodecTest {
    @Test
    void planSurvivesTheWire() {
        RestorePlan plan = new UartShadow("uart0", 0x3F8).plan();
        assertEquals(plan, RestorePlanCodec.decode(RestorePlanCodec.encode(plan)));
    }

    @Test
    void refusesAWriteOfImpossibleWidth() {
        RestorePlan bad = new RestorePlan("d", "k", AddressSpace.PIO, 0, List.of(new RegisterWrite(0, 3, 0, "")), List.of());
        assertThrows(IllegalArgumentException.class, () -> RestorePlanCodec.decode(RestorePlanCodec.encode(bad)));
    }

    @Property(tries = 500)
    void garbageIsRefusedOrDecodedButNeverCrashes(@ForAll byte[] bytes) {
        try {
            RestorePlanCodec.decode(bytes);
        } catch (IllegalArgumentException expected) {
            // refused with a message
        }
    }
}
