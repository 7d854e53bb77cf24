package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** This build reads the golden files of every format version it supports, with their known contents. */
class GoldenCheckpointTest {
    private static Path golden(String name) throws URISyntaxException {
        return Path.of(GoldenCheckpointTest.class.getResource("/checkpoint/golden/" + name).toURI());
    }

    private static List<String> types(CheckpointInfo info) {
        return info.sections().stream().map(s -> SectionType.describe(s.type())).toList();
    }

    @Test
    void readsTheFullCheckpointOfVersion1_0() throws Exception {
        CheckpointInfo info = CheckpointReader.info(golden(GoldenCheckpoints.FULL));
        assertEquals(new FormatVersion(1, 0), info.version());
        assertEquals(GoldenCheckpoints.fullMeta(), info.meta());
        assertEquals(List.of("META", "MACHINE", "DEVICE", "DEVICE", "TRAPLOG", "MEMORY"), types(info));
        assertEquals(4, info.memory().blocks());
        assertEquals(4, info.memory().pages(), "pages 0, 300, 2048 and the last; page 1 is zero and not stored");
        assertEquals(0, info.memory().zeroPages());
        try (CheckpointReader r = CheckpointReader.open(golden(GoldenCheckpoints.FULL));
             GuestMemory restored = GuestMemory.allocate(GoldenCheckpoints.MEMORY);
             GuestMemory expected = GuestMemory.allocate(GoldenCheckpoints.MEMORY)) {
            MachineStates.assertSame(GoldenCheckpoints.machineState(0x100000), r.machineState());
            assertArrayEquals(GoldenCheckpoints.devices(1).get("uart"), r.devices().get("uart"));
            assertEquals("ok", new String(r.devices().get("platform"), StandardCharsets.UTF_8));
            assertArrayEquals(GoldenCheckpoints.trapLog(1), r.trapLogSummary());
            r.applyMemory(restored);
            GoldenCheckpoints.fillFull(expected);
            assertEquals(expected.checksum(), restored.checksum());
        }
    }

    @Test
    void readsTheIncrementalCheckpointOfVersion1_0AsAChain() throws Exception {
        CheckpointInfo info = CheckpointReader.info(golden(GoldenCheckpoints.INCREMENTAL));
        assertEquals(new FormatVersion(1, 0), info.version());
        assertEquals(GoldenCheckpoints.incrementalMeta(), info.meta());
        assertEquals(Optional.of(new ParentRef("golden-full", "full-1.0.ferry")), info.meta().parent());
        assertEquals(3, info.memory().pages());
        assertEquals(1, info.memory().zeroPages(), "page 0 became zero");
        try (CheckpointChain chain = CheckpointChain.open(golden(GoldenCheckpoints.INCREMENTAL));
             GuestMemory restored = GuestMemory.allocate(GoldenCheckpoints.MEMORY);
             GuestMemory expected = GuestMemory.allocate(GoldenCheckpoints.MEMORY)) {
            assertEquals(2, chain.links().size());
            MachineStates.assertSame(GoldenCheckpoints.machineState(0x100040), chain.machineState());
            assertArrayEquals(GoldenCheckpoints.trapLog(2), chain.trapLogSummary());
            chain.applyMemory(restored);
            GoldenCheckpoints.fillFull(expected);
            GoldenCheckpoints.fillIncremental(expected);
            assertEquals(expected.checksum(), restored.checksum());
        }
    }
}
