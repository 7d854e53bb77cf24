package dev.ferry.vmm.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    private static final long GIB = 1L << 30;

    @Test
    void splitsRamAroundTheMmioHole() {
        assertEquals(List.of(new MemoryRegion(0, 0, 256L << 20, 0)), MemoryLayout.regionsFor(256L << 20));
        assertEquals(List.of(new MemoryRegion(0, 0, 3 * GIB, 0), new MemoryRegion(1, 4 * GIB, 5 * GIB, 3 * GIB)),
                MemoryLayout.regionsFor(8 * GIB));
    }

    @Test
    void rejectsSizesItCannotMapWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MemoryLayout.validate((256L << 20) + 100))
                .getMessage().contains("not a multiple of 4 KiB"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MemoryLayout.validate(1L << 20))
                .getMessage().contains("below the minimum"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MemoryLayout.validate(65 * GIB))
                .getMessage().contains("exceeds"));
    }

    @Test
    void parsesOperatorMemorySizes() {
        assertEquals(256L << 20, MemorySize.parse("256M"));
        assertEquals(8 * GIB, MemorySize.parse("8G"));
        assertEquals(8 * GIB, MemorySize.parse("8GiB"));
        assertEquals(65536L << 10, MemorySize.parse("65536K"));
        assertEquals(4096, MemorySize.parse("4096"));
        assertThrows(IllegalArgumentException.class, () -> MemorySize.parse("lots"));
        assertThrows(IllegalArgumentException.class, () -> MemorySize.parse("-5M"));
        assertEquals("8 GiB", MemorySize.format(8 * GIB));
    }

    @Test
    void populatedPagesAreAllocatedInOneCallAndStillReadAsZero() {
        try (GuestMemory m = GuestMemory.allocate(64L << 20)) {
            long before = m.checksum();
            m.populate(100, 64);
            java.util.List<Long> populated = new java.util.ArrayList<>();
            m.forEachPopulatedPage(populated::add);
            assertEquals(java.util.stream.LongStream.range(100, 164).boxed().toList(), populated);
            assertEquals(before, m.checksum(), "populated pages read as zero");
            assertThrows(IndexOutOfBoundsException.class, () -> m.populate(m.pageCount() - 1, 2));
        }
    }

    @Test
    void eightGibGuestCostsNothingUntilTouchedAndReadsBackAcrossChunks() {
        try (GuestMemory m = GuestMemory.allocate(8 * GIB)) {
            assertEquals(2 * 1024 * 1024, m.pageCount());
            byte[] data = new byte[8192];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 7);
            }
            long acrossChunk = GIB - 4096;
            m.write(acrossChunk, data, 0, data.length);
            byte[] back = new byte[data.length];
            m.read(acrossChunk, back, 0, back.length);
            assertArrayEquals(data, back);

            long high = 6 * GIB + 12345;
            m.writeLong(high, 0x0123456789ABCDEFL);
            assertEquals(0x0123456789ABCDEFL, m.readLong(high));
            assertEquals(high & ~4095L, m.gpaOfPage(m.offsetOf(high) >>> 12));
            assertThrows(IllegalArgumentException.class, () -> m.readLong(3 * GIB + 5));
        }
    }

    @Test
    void recordsEveryPageTheVmmWrites() {
        try (GuestMemory m = GuestMemory.allocate(16L << 20)) {
            m.write(4096 * 3 + 4000, new byte[200], 0, 200);
            ByteBuffer page = ByteBuffer.allocate(4096);
            page.put(0, (byte) 1);
            m.writePage(9, page);
            PageBitmap b = new PageBitmap(m.pageCount());
            m.drainVmmWrites(b);
            assertEquals(3, b.count());
            assertTrue(b.get(3) && b.get(4) && b.get(9));
            PageBitmap again = new PageBitmap(m.pageCount());
            m.drainVmmWrites(again);
            assertEquals(0, again.count(), "draining starts a new record");
            assertFalse(m.isZeroPage(9));
            assertTrue(m.isZeroPage(10));
        }
    }

    @Test
    void visitsOnlyPopulatedPagesAndChecksumsHolesAsZeros() {
        try (GuestMemory a = GuestMemory.allocate(4 * GIB); GuestMemory b = GuestMemory.allocate(4 * GIB)) {
            a.writeLong(5 * 4096, 1);
            a.writeLong(4 * GIB + 4096 * 7, 2);
            java.util.List<Long> pages = new java.util.ArrayList<>();
            a.forEachPopulatedPage(pages::add);
            assertEquals(List.of(5L, (3 * GIB >>> 12) + 7), pages);
            assertEquals(2, a.copyNonZeroPagesTo(b));
            assertEquals(a.checksum(), b.checksum());
            b.writeLong(4096 * 100, 3);
            assertTrue(a.checksum() != b.checksum());
            java.util.zip.CRC32C zeros = new java.util.zip.CRC32C();
            try (GuestMemory c = GuestMemory.allocate(16L << 20)) {
                zeros.update(new byte[16 << 20]);
                assertEquals(zeros.getValue(), c.checksum());
            }
        }
    }
}
