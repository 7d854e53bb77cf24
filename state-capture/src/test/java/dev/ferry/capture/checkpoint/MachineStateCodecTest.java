package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.protocol.v1.MachineProto;
import dev.ferry.vmm.state.MachineState;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class MachineStateCodecTest {
    @Property(tries = 50)
    void everyFieldSurvivesEncodingAndParsing(@ForAll long seed, @ForAll @IntRange(min = 1, max = 4) int vcpus)
            throws Exception {
        MachineState state = MachineStates.random(seed, vcpus);
        byte[] wire = MachineStateCodec.encode(state).toByteArray();
        MachineState back = MachineStateCodec.decode(MachineProto.MachineState.parseFrom(wire));
        MachineStates.assertSame(state, back);
        assertEquals(MachineStateCodec.encode(state), MachineStateCodec.encode(back));
    }

    @Property(tries = 20)
    void refusesVcpuWithoutSpecialRegisters(@ForAll long seed) {
        MachineProto.MachineState m = MachineStateCodec.encode(MachineStates.random(seed, 1));
        MachineProto.MachineState broken = m.toBuilder().setVcpus(0, m.getVcpus(0).toBuilder().clearSregs()).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MachineStateCodec.decode(broken));
        assertTrue(e.getMessage().contains("vCPU 0 has no sregs"), e.getMessage());
    }
}
