package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/** Small guests and checkpoints for tests that need no KVM. */
final class Fixtures {
    static final long MEMORY = 16L << 20;
    static final Instant T0 = Instant.parse("2025-01-02T03:04:05.123456789Z");
    /** Compresses every block, so a file's bytes do not depend on timing. */
    static final CheckpointWriter WRITER = new CheckpointWriter(Compression.ALWAYS, CheckpointWriter.defaultThreads());

    private Fixtures() {}

    static CheckpointMeta fullMeta(String id) {
        return CheckpointMeta.full(id, T0, "vm-1", "heartbeat", MEMORY, Map.of("disk", "/images/root.img"));
    }

    static CheckpointContents contents(CheckpointMeta meta, long seed) {
        return contents(meta, seed, 1);
    }

    /** Contents whose kernel blobs are {@code 1 / shrink} of their real size (smaller files). */
    static CheckpointContents contents(CheckpointMeta meta, long seed, int shrink) {
        return new CheckpointContents(meta, MachineStates.random(seed, 1, shrink),
                Map.of("uart", new byte[] {1, 2, 3, (byte) seed}, "platform", new byte[] {9}),
                new byte[] {'t', 'r', 'a', 'p', 's'});
    }

    /** A 16 MiB guest with {@code pages} pages written from {@code seed}, spread over RAM. */
    static GuestMemory guest(long seed, int pages) {
        GuestMemory m = GuestMemory.allocate(MEMORY);
        byte[] scratch = new byte[GuestPages.PAGE];
        long step = Math.max(1, m.pageCount() / Math.max(1, pages));
        for (int i = 0; i < pages; i++) {
            GuestPages.write(m, (i * step + seed) % m.pageCount(), seed + i, scratch);
        }
        m.drainVmmWrites(new PageBitmap(m.pageCount()));
        return m;
    }

    /** Writes a full checkpoint of {@code memory} to {@code file}. */
    static WriteReport writeFull(Path file, String id, GuestMemory memory) throws IOException {
        return WRITER.write(file, contents(fullMeta(id), 1), memory, PageSelection.populated());
    }

    /** Writes an incremental checkpoint of the pages in {@code dirty} over {@code parentFile}. */
    static WriteReport writeIncremental(Path file, String id, Path parentFile, GuestMemory memory, PageBitmap dirty)
            throws IOException {
        CheckpointMeta parent = CheckpointReader.info(parentFile).meta();
        CheckpointMeta meta = parent.child(id, ParentRef.of(parent, parentFile), T0.plusSeconds(60));
        return WRITER.write(file, contents(meta, 2), memory, PageSelection.dirty(dirty));
    }
}
