package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import net.jpountz.lz4.LZ4Factory;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Files that are foreign, cut short, damaged, of another version, or forged to break the format's rules. */
class HostileCheckpointTest {
    private static final String NAME = "ck-17.ferry";
    private static final Path dir = Path.of("target", "hostile-checkpoints");
    private static final byte[] good = writeGoodFile();
    private static final long guestPages = Fixtures.MEMORY / GuestPages.PAGE;

    /** A small full checkpoint (three pages in two blocks), written once for all the tests of both engines. */
    private static byte[] writeGoodFile() {
        try (GuestMemory m = GuestMemory.allocate(Fixtures.MEMORY)) {
            for (long page : new long[] {0, 100, m.pageCount() - 1}) {
                m.writeLong(m.gpaOfPage(page) + 8 * page % 4096, 0x0123_4567_89ab_cdefL ^ page);
            }
            Files.createDirectories(dir);
            Path file = dir.resolve("good.ferry");
            Fixtures.WRITER.write(file, Fixtures.contents(Fixtures.fullMeta("ck-17"), 1, 16), m,
                    PageSelection.populated());
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CheckpointFormatException refused(byte[] bytes) {
        Path file = dir.resolve(NAME);
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> CheckpointReader.open(file));
        assertTrue(e.getMessage().startsWith("checkpoint file " + NAME), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    private static void assertMessage(byte[] bytes, String expected) {
        String m = refused(bytes).getMessage();
        assertTrue(m.contains(expected), "expected '" + expected + "' in: " + m);
    }

    private static CheckpointReader opened(byte[] bytes) throws IOException {
        Path file = dir.resolve("ok-" + System.nanoTime() + ".ferry");
        Files.write(file, bytes);
        return CheckpointReader.open(file);
    }

    @Test
    void theUntouchedFileReads() throws IOException {
        try (CheckpointReader r = opened(good)) {
            assertEquals("ck-17", r.meta().id());
        }
    }

    @Test
    void refusesTheFileCutShortAtEveryByte() {
        for (int len = 0; len < good.length; len++) {
            refused(Arrays.copyOf(good, len));
        }
    }

    @Test
    void refusesASingleBitFlipInEveryByte() {
        for (int i = 0; i < good.length; i++) {
            byte[] b = good.clone();
            b[i] ^= (byte) (1 << (i % 8));
            refused(b);
        }
    }

    @Property(tries = 400)
    void refusesASingleBitFlipAnywhere(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int position) {
        int bit = position % (good.length * 8);
        byte[] b = good.clone();
        b[bit / 8] ^= (byte) (1 << (bit % 8));
        refused(b);
    }

    @Test
    void refusesBytesAppendedAfterTheFooter() {
        assertMessage(Arrays.copyOf(good, good.length + 1), "footer: not found in the last 24 bytes");
    }

    @Test
    void refusesWrongMagic() {
        byte[] b = good.clone();
        b[1] = 'X';
        assertMessage(b, "is not a Ferry checkpoint: it starts with [89 58 45 52 52 59 0d 0a]");
    }

    @Test
    void refusesAForeignFileSuchAsAPng() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
        assertMessage(png, "is not a Ferry checkpoint: it starts with [89 50 4e 47 0d 0a 1a 0a], a checkpoint with"
                + " [89 46 45 52 52 59 0d 0a]");
    }

    @Test
    void refusesAnEmptyFileAsTooShort() {
        assertMessage(new byte[0], "is 0 bytes, shorter than the smallest checkpoint (48 bytes)");
    }

    @Test
    void refusesCheckpointWithNewerMajor() {
        assertEquals("checkpoint file ck-17.ferry is version 2.0, this build reads 1.x",
                refused(CheckpointBytes.withVersion(good, 2, 0)).getMessage());
    }

    @Test
    void refusesCheckpointWithNewerMinor() {
        assertEquals("checkpoint file ck-17.ferry is version 1.9, this build reads 1.x up to 1.0",
                refused(CheckpointBytes.withVersion(good, 1, 9)).getMessage());
    }

    @Test
    void refusesOversizedLengthsAtTheCapBeforeAllocating() {
        int meta = CheckpointBytes.indexOf(good, SectionType.META);
        assertMessage(CheckpointBytes.withLengthField(good, meta, Long.MAX_VALUE),
                "section #0 (META at byte 24): declares 9223372036854775807 bytes, more than the 1048576 this"
                        + " section type may hold");
        int machine = CheckpointBytes.indexOf(good, SectionType.MACHINE);
        assertMessage(CheckpointBytes.withLengthField(good, machine, 1L << 31),
                "declares 2147483648 bytes, more than the 16777216 this section type may hold");
        int memory = CheckpointBytes.indexOf(good, SectionType.MEMORY);
        assertMessage(CheckpointBytes.withLengthField(good, memory, -1L),
                "declares 18446744073709551615 bytes, more than the " + SectionType.MEMORY.cap() + " this section");
        assertMessage(CheckpointBytes.withLengthField(good, machine, 1 << 20), "remain before the footer");
    }

    @Test
    void skipsAnUnknownSkippableSectionAndRefusesAnUnknownMandatoryOne() throws IOException {
        byte[] skippable = CheckpointBytes.edit(good, ps -> {
            ps.add(2, new CheckpointBytes.Part(0x4242, SectionInfo.MAY_SKIP, new byte[] {1, 2, 3}));
            return ps;
        });
        try (CheckpointReader r = opened(skippable); GuestMemory t = GuestMemory.allocate(Fixtures.MEMORY)) {
            assertEquals(0x4242, r.info().sections().get(2).type());
            r.applyMemory(t);
        }
        byte[] mandatory = CheckpointBytes.edit(good, ps -> {
            ps.add(2, new CheckpointBytes.Part(0x4242, 0, new byte[] {1, 2, 3}));
            return ps;
        });
        assertMessage(mandatory, "section #2 (type 0x4242 at byte");
        assertMessage(mandatory, "is of a type this build does not know and is not marked skippable");
    }

    @Test
    void refusesMoreSectionsThanTheCap() {
        byte[] b = CheckpointBytes.edit(good, ps -> {
            for (int i = 0; i < FileScan.MAX_SECTIONS; i++) {
                ps.add(new CheckpointBytes.Part(0x4242, SectionInfo.MAY_SKIP, new byte[0]));
            }
            return ps;
        });
        assertMessage(b, "section #65536 at byte");
        assertMessage(b, "is one more than the 65536 sections a checkpoint may hold");
    }

    @Test
    void refusesUnknownSectionFlags() {
        byte[] b = CheckpointBytes.edit(good, ps -> {
            ps.set(1, new CheckpointBytes.Part(ps.get(1).type(), 0x8000, ps.get(1).payload()));
            return ps;
        });
        assertMessage(b, "section #1 (MACHINE at byte");
        assertMessage(b, "flags are 0x8000");
    }

    @Test
    void refusesMissingRepeatedAndMisplacedSections() {
        int machine = CheckpointBytes.indexOf(good, SectionType.MACHINE);
        int memory = CheckpointBytes.indexOf(good, SectionType.MEMORY);
        assertMessage(CheckpointBytes.edit(good, ps -> {
            ps.remove(machine);
            return ps;
        }), "has no MACHINE section; every checkpoint holds one");
        assertMessage(CheckpointBytes.edit(good, ps -> {
            ps.add(ps.get(memory));
            return ps;
        }), "repeats section #" + memory + " (MEMORY");
        assertMessage(CheckpointBytes.edit(good, ps -> {
            ps.add(ps.remove(0));
            return ps;
        }), "META must be the first section");
        assertMessage(CheckpointBytes.edit(good, ps -> {
            ps.add(2, ps.get(CheckpointBytes.indexOf(good, SectionType.DEVICE)));
            return ps;
        }), "(DEVICE at byte");
    }

    @Test
    void refusesAFooterThatMiscountsTheSections() {
        List<CheckpointBytes.Part> parts = CheckpointBytes.parts(good);
        byte[] b = CheckpointBytes.build(FormatVersion.CURRENT, parts);
        byte[] footer = new FileFooter(b.length, parts.size() + 1).encode();
        System.arraycopy(footer, 0, b, b.length - footer.length, footer.length);
        assertMessage(b, "footer: counts " + (parts.size() + 1) + " sections, the file holds " + parts.size());
    }

    private static byte[] withMemory(byte[] memoryPayload) {
        int memory = CheckpointBytes.indexOf(good, SectionType.MEMORY);
        return CheckpointBytes.edit(good, ps -> {
            ps.set(memory, ps.get(memory).withPayload(memoryPayload));
            return ps;
        });
    }

    @Test
    void refusesBlocksOutsideTheGuestOrOutOfOrder() {
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false, CheckpointBytes.onePage(guestPages, (byte) 1))),
                "covers pages 4096 to 4096, beyond the guest's 4096 pages");
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false,
                        CheckpointBytes.onePage(9, (byte) 1), CheckpointBytes.onePage(9, (byte) 2))),
                "block 1 at byte");
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false,
                        CheckpointBytes.onePage(9, (byte) 1), CheckpointBytes.onePage(3, (byte) 2))),
                "starts at page 3, not after the previous block's last page 9: pages must ascend");
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false, CheckpointBytes.block(0, 257,
                        new long[] {1, 0, 0, 0, 0}, new long[5], BlockHeader.RAW, new byte[GuestPages.PAGE]))),
                "spans 257 pages; this file's blocks span 1 to 256");
        assertMessage(withMemory(CheckpointBytes.memory(guestPages + 1, false)), "describes 4097 pages, full;"
                + " META says 4096 pages, full");
    }

    @Test
    void refusesBlocksWhoseBitmapsOrLengthsDisagree() {
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false, CheckpointBytes.block(0, 1,
                new long[] {1}, new long[] {2}, BlockHeader.RAW, new byte[0]))), "marks a page zero that it does not hold");
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false, CheckpointBytes.block(0, 1,
                new long[] {3}, new long[] {0}, BlockHeader.RAW, new byte[8192]))), "holds pages beyond its span of 1");
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false, CheckpointBytes.block(0, 1,
                new long[] {1}, new long[] {0}, BlockHeader.RAW, new byte[100]))),
                "stores 100 bytes as encoding 0 for 4096 bytes of pages");
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false, CheckpointBytes.block(0, 1,
                new long[] {1}, new long[] {0}, 7, new byte[100]))), "as encoding 7");
        byte[] cut = CheckpointBytes.onePage(0, (byte) 1);
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false, Arrays.copyOf(cut, cut.length - 1))),
                "stores 4096 bytes, only 4095 remain in the section");
    }

    @Test
    void refusesLz4DataThatDoesNotDecodeToExactlyItsPages() {
        byte[] page = new byte[GuestPages.PAGE];
        Arrays.fill(page, (byte) 'a');
        byte[] lz4 = LZ4Factory.fastestInstance().fastCompressor().compress(page);
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false, CheckpointBytes.block(0, 2,
                new long[] {3}, new long[] {0}, BlockHeader.LZ4, lz4))), "LZ4 block decodes to 4096 bytes, expected 8192");
        byte[] reachesBack = {0x1F, 'a', (byte) 0xFF, 0x7F, 0x0F};
        assertMessage(withMemory(CheckpointBytes.memory(guestPages, false, CheckpointBytes.block(0, 1,
                new long[] {1}, new long[] {0}, BlockHeader.LZ4, reachesBack))),
                "LZ4 match offset 32767 at output byte 1 reaches outside the block");
    }

    @Test
    void writesNoPageOfABlockWhoseChecksumFails() throws IOException {
        byte[] b = withMemory(CheckpointBytes.memory(guestPages, false,
                CheckpointBytes.onePage(10, (byte) 1), CheckpointBytes.onePage(20, (byte) 2)));
        Path file = dir.resolve("apply.ferry");
        Files.write(file, b);
        try (CheckpointReader r = CheckpointReader.open(file); GuestMemory t = GuestMemory.allocate(Fixtures.MEMORY)) {
            byte[] damaged = b.clone();
            damaged[damaged.length - FileFooter.BYTES - 5] ^= 1;
            Files.write(file, damaged);
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> r.applyMemory(t));
            assertTrue(e.getMessage().contains("block 1 at byte"), e.getMessage());
            assertTrue(e.getMessage().contains("CRC32C is"), e.getMessage());
            assertFalse(t.isZeroPage(10), "the block before the damaged one was applied");
            assertTrue(t.isZeroPage(20), "no page of the damaged block was written");
        }
    }

    @Test
    void refusesAMetaThatDoesNotDecode() throws Exception {
        assertMessage(CheckpointBytes.withMeta(good, m -> m.setParentId("x").setParentFile("../x.ferry")),
                "parent file '../x.ferry' is not a bare file name");
        assertMessage(CheckpointBytes.withMeta(good, m -> m.setMemorySize(1L << 50)),
                "section #0 (META at byte 24): does not decode: memory size");
        int meta = CheckpointBytes.indexOf(good, SectionType.META);
        assertMessage(CheckpointBytes.edit(good, ps -> {
            ps.set(meta, ps.get(meta).withPayload(new byte[] {(byte) 0xFF, (byte) 0xFF}));
            return ps;
        }), "section #0 (META at byte 24): does not decode");
    }
}
