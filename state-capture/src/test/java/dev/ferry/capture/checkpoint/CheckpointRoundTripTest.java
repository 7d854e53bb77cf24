package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void fullCheckpointRestoresMemoryMachineStateDevicesAndTrapLog() throws IOException {
        try (GuestMemory source = Fixtures.guest(7, 600); GuestMemory target = GuestMemory.allocate(Fixtures.MEMORY)) {
            Path file = dir.resolve("ck-1.ferry");
            WriteReport report = Fixtures.writeFull(file, "ck-1", source);
            assertEquals(Files.size(file), report.fileBytes());
            try (CheckpointReader r = CheckpointReader.open(file)) {
                r.applyMemory(target);
                assertEquals(source.checksum(), target.checksum(), "restored memory differs");
                CheckpointContents expected = Fixtures.contents(Fixtures.fullMeta("ck-1"), 1);
                assertEquals(expected.meta(), r.meta());
                MachineStates.assertSame(expected.machine(), r.machineState());
                assertEquals(List.of("platform", "uart"), List.copyOf(r.devices().keySet()));
                assertArrayEquals(expected.devices().get("uart"), r.devices().get("uart"));
                assertArrayEquals(expected.trapLogSummary(), r.trapLogSummary());
            }
        }
    }

    @Test
    void fullCheckpointStoresNoZeroPagesAndCompresses() throws IOException {
        try (GuestMemory source = Fixtures.guest(3, 800)) {
            long[] kinds = new long[GuestPages.Kind.values().length];
            source.forEachPopulatedPage(p -> kinds[source.isZeroPage(p) ? 0 : 1]++);
            Path file = dir.resolve("ck.ferry");
            WriteReport report = Fixtures.writeFull(file, "ck", source);
            CheckpointInfo info = CheckpointReader.info(file);
            assertEquals(report.memory(), info.memory());
            assertEquals(0, info.memory().zeroPages(), "a full checkpoint carries no zero pages");
            assertEquals(kinds[1], info.memory().pages(), "every non-zero populated page, and no other");
            assertTrue(info.memory().storedBytes() < info.memory().rawBytes() * 0.8,
                    "guest-like pages compress: " + info.memory());
            assertEquals(FormatVersion.CURRENT, info.version());
            assertEquals(List.of("META", "MACHINE", "DEVICE", "DEVICE", "TRAPLOG", "MEMORY"),
                    info.sections().stream().map(s -> SectionType.describe(s.type())).toList());
            assertTrue(info.sections().get(4).maySkip(), "the trap log summary is skippable");
        }
    }

    @Test
    void incrementalChainRestoresEachPointInTime() throws IOException {
        try (GuestMemory source = Fixtures.guest(11, 400)) {
            Path full = dir.resolve("ck-1.ferry");
            Fixtures.writeFull(full, "ck-1", source);

            byte[] scratch = new byte[GuestPages.PAGE];
            GuestPages.write(source, 5, 100, scratch);
            GuestPages.write(source, source.pageCount() - 1, 101, scratch);
            long zeroed = firstNonZeroPage(source);
            source.write(source.gpaOfPage(zeroed), new byte[GuestPages.PAGE], 0, GuestPages.PAGE);
            PageBitmap dirty1 = new PageBitmap(source.pageCount());
            source.drainVmmWrites(dirty1);
            Path inc1 = dir.resolve("ck-2.ferry");
            Fixtures.writeIncremental(inc1, "ck-2", full, source, dirty1);
            long checksum1 = source.checksum();

            for (long p = 1000; p < 1600; p++) {
                GuestPages.write(source, p, 200 + p, scratch);
            }
            PageBitmap dirty2 = new PageBitmap(source.pageCount());
            source.drainVmmWrites(dirty2);
            Path inc2 = dir.resolve("ck-3.ferry");
            Fixtures.writeIncremental(inc2, "ck-3", inc1, source, dirty2);

            CheckpointInfo info1 = CheckpointReader.info(inc1);
            assertEquals(Optional.of(new ParentRef("ck-1", "ck-1.ferry")), info1.meta().parent());
            assertEquals(3, info1.memory().pages());
            assertTrue(info1.memory().zeroPages() >= 1, "the page that became zero travels as a zero page");

            try (CheckpointChain chain = CheckpointChain.open(inc2); GuestMemory t = GuestMemory.allocate(Fixtures.MEMORY)) {
                assertEquals(List.of(full, inc1, inc2), chain.links().stream().map(CheckpointReader::file).toList());
                chain.applyMemory(t);
                assertEquals(source.checksum(), t.checksum(), "the chain restores the newest memory");
                assertEquals("ck-3", chain.meta().id());
            }
            try (CheckpointChain chain = CheckpointChain.open(inc1); GuestMemory t = GuestMemory.allocate(Fixtures.MEMORY)) {
                chain.applyMemory(t);
                assertEquals(checksum1, t.checksum(), "a shorter chain restores its own point in time");
                assertTrue(t.isZeroPage(zeroed), "the zeroed page is zero again");
            }
        }
    }

    @Property(tries = 15)
    void anyPagesSurviveAFullAndAnIncrementalCheckpoint(@ForAll long seed,
                                                        @ForAll @IntRange(min = 0, max = 700) int firstPages,
                                                        @ForAll @IntRange(min = 0, max = 700) int changedPages)
            throws IOException {
        Path d = Files.createTempDirectory("ferry-ck-prop");
        try (GuestMemory source = GuestMemory.allocate(Fixtures.MEMORY);
             GuestMemory target = GuestMemory.allocate(Fixtures.MEMORY)) {
            SplittableRandom r = new SplittableRandom(seed);
            byte[] scratch = new byte[GuestPages.PAGE];
            for (int i = 0; i < firstPages; i++) {
                GuestPages.write(source, r.nextLong(source.pageCount()), r.nextLong(), scratch);
            }
            source.drainVmmWrites(new PageBitmap(source.pageCount()));
            Path full = d.resolve("a.ferry");
            Fixtures.writeFull(full, "a", source);
            for (int i = 0; i < changedPages; i++) {
                GuestPages.write(source, r.nextLong(source.pageCount()), r.nextLong(), scratch);
            }
            PageBitmap dirty = new PageBitmap(source.pageCount());
            source.drainVmmWrites(dirty);
            Path inc = d.resolve("b.ferry");
            Fixtures.writeIncremental(inc, "b", full, source, dirty);
            try (CheckpointChain chain = CheckpointChain.open(inc)) {
                chain.applyMemory(target);
            }
            assertEquals(source.checksum(), target.checksum());
            assertEquals(dirty.count(), CheckpointReader.info(inc).memory().pages());
        } finally {
            try (var files = Files.list(d)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(d);
        }
    }

    @Test
    void emptyGuestMakesAValidCheckpointWithNoBlocks() throws IOException {
        try (GuestMemory source = GuestMemory.allocate(Fixtures.MEMORY)) {
            Path file = dir.resolve("empty.ferry");
            Fixtures.writeFull(file, "empty", source);
            assertEquals(new MemoryStats(0, 0, 0, 0), CheckpointReader.info(file).memory());
        }
    }

    @Test
    void writerRefusesAFullCheckpointNamingAParentAndAWrongMemorySize() throws IOException {
        try (GuestMemory source = Fixtures.guest(1, 10); GuestMemory big = GuestMemory.allocate(32L << 20)) {
            CheckpointMeta child = Fixtures.fullMeta("a").child("b", new ParentRef("a", "a.ferry"), Fixtures.T0);
            Path file = dir.resolve("x.ferry");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CheckpointWriter()
                    .write(file, Fixtures.contents(child, 1), source, PageSelection.populated()));
            assertTrue(e.getMessage().contains("must not name a parent"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new CheckpointWriter()
                    .write(file, Fixtures.contents(Fixtures.fullMeta("a"), 1), big, PageSelection.populated()));
            assertTrue(e.getMessage().contains("the guest has 33554432"), e.getMessage());
            assertFalse(Files.exists(file));
        }
    }

    private static long firstNonZeroPage(GuestMemory m) {
        long[] found = {-1};
        m.forEachPopulatedPage(p -> {
            if (found[0] < 0 && p > 10 && !m.isZeroPage(p)) {
                found[0] = p;
            }
        });
        return found[0];
    }
}
