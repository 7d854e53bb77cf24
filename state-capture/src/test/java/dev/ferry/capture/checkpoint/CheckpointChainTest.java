package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointChainTest {
    @TempDir
    Path dir;

    /** ck-1 (full) and ck-2 (incremental over it) in {@link #dir}; returns ck-2. */
    private Path twoLinks() throws IOException {
        try (GuestMemory m = Fixtures.guest(2, 20)) {
            Path full = dir.resolve("ck-1.ferry");
            Fixtures.writeFull(full, "ck-1", m);
            m.writeLong(m.gpaOfPage(7), 42);
            PageBitmap dirty = new PageBitmap(m.pageCount());
            m.drainVmmWrites(dirty);
            Path inc = dir.resolve("ck-2.ferry");
            Fixtures.writeIncremental(inc, "ck-2", full, m, dirty);
            return inc;
        }
    }

    private static String refusal(Path newest) {
        return assertThrows(CheckpointFormatException.class, () -> CheckpointChain.open(newest)).getMessage();
    }

    @Test
    void aFullCheckpointIsAChainOfOne() throws IOException {
        Path inc = twoLinks();
        try (CheckpointChain c = CheckpointChain.open(dir.resolve("ck-1.ferry"))) {
            assertEquals(1, c.links().size());
        }
        try (CheckpointChain c = CheckpointChain.open(inc)) {
            assertEquals(2, c.links().size());
            assertEquals("ck-1", c.links().get(0).meta().id());
        }
    }

    @Test
    void refusesAChainWhoseParentIsMissing() throws IOException {
        Path inc = twoLinks();
        Files.delete(dir.resolve("ck-1.ferry"));
        assertEquals("checkpoint file ck-2.ferry, META: names parent ck-1.ferry (id ck-1), which does not exist in "
                + dir.toAbsolutePath(), refusal(inc));
    }

    @Test
    void refusesAParentFileThatIsAnotherCheckpoint() throws IOException {
        Path inc = twoLinks();
        try (GuestMemory other = Fixtures.guest(9, 5)) {
            new CheckpointWriter().write(dir.resolve("ck-1.ferry"),
                    Fixtures.contents(CheckpointMeta.full("ck-9", Fixtures.T0, "vm-9", "g", Fixtures.MEMORY, Map.of()), 9),
                    other, PageSelection.populated());
        }
        assertEquals("checkpoint file ck-2.ferry, META: names parent ck-1.ferry with id ck-1, but that file's id is"
                + " ck-9", refusal(inc));
    }

    @Test
    void refusesAParentOfAnotherMemorySize() throws IOException {
        Path inc = twoLinks();
        try (GuestMemory other = GuestMemory.allocate(32L << 20)) {
            new CheckpointWriter().write(dir.resolve("ck-1.ferry"),
                    Fixtures.contents(CheckpointMeta.full("ck-1", Fixtures.T0, "vm-1", "g", 32L << 20, Map.of()), 1),
                    other, PageSelection.populated());
        }
        assertEquals("checkpoint file ck-2.ferry, META: is of 16777216 bytes of memory, its parent ck-1.ferry of"
                + " 33554432", refusal(inc));
    }

    @Test
    void refusesAChainThatLoops() throws Exception {
        Path inc = twoLinks();
        Path full = dir.resolve("ck-1.ferry");
        byte[] b = CheckpointBytes.withMeta(Files.readAllBytes(full),
                m -> m.setParentId("ck-2").setParentFile("ck-2.ferry"));
        int memory = CheckpointBytes.indexOf(b, SectionType.MEMORY);
        b = CheckpointBytes.edit(b, ps -> {
            byte[] p = ps.get(memory).payload().clone();
            p[10] = MemoryPreamble.INCREMENTAL;
            ps.set(memory, ps.get(memory).withPayload(p));
            return ps;
        });
        Files.write(full, b);
        String m = refusal(inc);
        assertTrue(m.endsWith("META: leads back to checkpoint ck-2 through its parents: the chain loops"), m);
    }
}
