package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Memory blocks sealed on several threads: same file as on one, readable under every policy, threads reaped. */
class MemoryWritePipelineTest {
    /** 64 MiB: enough blocks (256) to keep every compressing thread and the reorder window busy. */
    private static final long MEMORY = 64L << 20;

    @TempDir
    Path dir;

    @AfterEach
    void noPipelineThreadOutlivesAWrite() {
        assertEquals(List.of(), pipelineThreads(), "threads left running after the write");
    }

    private static List<String> pipelineThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("checkpoint-")).toList();
    }

    /** Every page written with guest-like contents (random, text, tables, zeros) from {@code seed}. */
    private static GuestMemory guest(long seed) {
        GuestMemory m = GuestMemory.allocate(MEMORY);
        byte[] scratch = new byte[GuestPages.PAGE];
        for (long p = 0; p < m.pageCount(); p++) {
            GuestPages.write(m, p, seed, scratch);
        }
        m.drainVmmWrites(new PageBitmap(m.pageCount()));
        return m;
    }

    private static CheckpointContents contents(String id) {
        return Fixtures.contents(CheckpointMeta.full(id, Fixtures.T0, "vm-1", "guest-like", MEMORY, Map.of()),
                1, 16);
    }

    private static void assertRestoresTo(GuestMemory expected, Path file) throws IOException {
        try (CheckpointReader r = CheckpointReader.open(file); GuestMemory restored = GuestMemory.allocate(MEMORY)) {
            r.applyMemory(restored);
            assertEquals(expected.checksum(), restored.checksum(), file.getFileName() + " restores other memory");
        }
    }

    @Test
    void blocksCompressedOnFourThreadsMakeTheSameFileAsOnOne() throws IOException {
        try (GuestMemory m = guest(5)) {
            Path one = dir.resolve("one.ferry");
            Path four = dir.resolve("four.ferry");
            WriteReport r1 = new CheckpointWriter(Compression.ALWAYS, 1).write(one, contents("ck"), m,
                    PageSelection.populated());
            WriteReport r4 = new CheckpointWriter(Compression.ALWAYS, 4).write(four, contents("ck"), m,
                    PageSelection.populated());
            assertEquals(4, r4.threads());
            assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(four));
            assertEquals(r1.memory(), r4.memory());
            assertTrue(r4.lz4Blocks() > r4.memory().blocks() / 2, "most guest-like blocks compress: " + r4);
            assertRestoresTo(m, four);
        }
    }

    @Test
    void everyPolicyOnSeveralThreadsWritesAFileThatRestoresTheSameMemory() throws IOException {
        try (GuestMemory m = guest(6)) {
            MemoryStats always = null;
            for (Compression c : Compression.values()) {
                Path file = dir.resolve(c + ".ferry");
                WriteReport r = new CheckpointWriter(c, 3).write(file, contents("ck-" + c), m, PageSelection.populated());
                assertEquals(r.memory(), CheckpointReader.info(file).memory(), c + " reports what the file holds");
                assertRestoresTo(m, file);
                if (c == Compression.NEVER) {
                    assertEquals(0, r.lz4Blocks(), "NEVER stores every block raw");
                }
                if (always == null) {
                    always = r.memory();
                } else {
                    assertEquals(always.pages(), r.memory().pages(), c + " holds the same pages");
                    assertEquals(always.blocks(), r.memory().blocks(), c + " holds the same blocks");
                }
            }
        }
    }

    @Test
    void incrementalBlocksOnSeveralThreadsRestoreTheNewestMemory() throws IOException {
        try (GuestMemory m = guest(7)) {
            Path full = dir.resolve("a.ferry");
            new CheckpointWriter(Compression.ADAPTIVE, 4).write(full, contents("a"), m, PageSelection.populated());
            byte[] scratch = new byte[GuestPages.PAGE];
            for (long p = 3; p < m.pageCount(); p += 7) {
                GuestPages.write(m, p, 99 + p, scratch);
            }
            PageBitmap dirty = new PageBitmap(m.pageCount());
            m.drainVmmWrites(dirty);
            CheckpointMeta parent = CheckpointReader.info(full).meta();
            CheckpointMeta child = parent.child("b", ParentRef.of(parent, full), Fixtures.T0.plusSeconds(1));
            Path inc = dir.resolve("b.ferry");
            WriteReport r = new CheckpointWriter(Compression.ADAPTIVE, 4).write(inc,
                    Fixtures.contents(child, 2, 16), m, PageSelection.dirty(dirty));
            assertEquals(dirty.count(), r.memory().pages());
            try (CheckpointChain chain = CheckpointChain.open(inc); GuestMemory restored = GuestMemory.allocate(MEMORY)) {
                chain.applyMemory(restored);
                assertEquals(m.checksum(), restored.checksum());
            }
        }
    }

    @Test
    void aWriterThatFailsStopsTheWalkAndTheCompressingThreadsAndIsThrown() throws IOException {
        try (GuestMemory m = guest(8)) {
            Path file = dir.resolve("closed.bin");
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            channel.close();
            SectionSink sink = new SectionSink(channel, 64 << 10);
            sink.begin(SectionType.MEMORY.code(), 0);
            assertThrows(ClosedChannelException.class, () -> MemoryWritePipeline.write(sink, m,
                    PageSelection.populated(), LZ4Factory.fastestInstance().fastCompressor(), Compression.ALWAYS, 4,
                    DiskPace.UNKNOWN));
        }
    }

    @Test
    void aWalkThatFailsStopsTheWriterAndTheCompressingThreadsAndIsThrown() throws IOException {
        try (GuestMemory m = guest(9); FileChannel channel = FileChannel.open(dir.resolve("walk.bin"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            Consumer<LongConsumer> descending = pages -> {
                for (long p = 0; p < 2000; p++) {
                    pages.accept(p);
                }
                pages.accept(5);
            };
            SectionSink sink = new SectionSink(channel, 64 << 10);
            sink.begin(SectionType.MEMORY.code(), 0);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> MemoryWritePipeline.write(sink,
                    m, false, descending, LZ4Factory.fastestInstance().fastCompressor(), Compression.ALWAYS, 4,
                    DiskPace.UNKNOWN));
            assertEquals("page 5 after page 1999: pages must ascend", e.getMessage());
        }
    }
}
