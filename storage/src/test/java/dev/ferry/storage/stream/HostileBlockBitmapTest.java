package dev.ferry.storage.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * A streaming disk's block bitmap read back from disk after a crash, a bad disk or tampering: any damage to its
 * header, its length, or the whole file is refused with an {@link IOException} naming the file and the defect; only
 * a file whose header is intact opens, and then its bit area has exactly the size the image needs.
 */
class HostileBlockBitmapTest {
    private static final int BLOCK = 64 << 10;
    private static final long CAPACITY = (10L << 20) + 12345;
    private static final String SOURCE = "127.0.0.1:10809/disk.img";
    private static Path dir;
    private static byte[] valid;

    @BeforeContainer
    static void create() throws IOException {
        dir = Files.createTempDirectory("ferry-hostile-bitmap");
        Path f = dir.resolve("valid.bitmap");
        try (BlockBitmap b = BlockBitmap.create(f, BLOCK, CAPACITY, SOURCE)) {
            long[] words = new long[BlockBitmap.words(b.blocks())];
            words[0] = 0b1011;
            b.store(words);
        }
        valid = Files.readAllBytes(f);
    }

    @AfterContainer
    static void clean() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Opens {@code bytes} as a bitmap: refused naming the file, or opened with the header intact. */
    private static void opensOnlyIntact(byte[] bytes) throws IOException {
        Path f = Files.createTempFile(dir, "mutated", ".bitmap");
        Files.write(f, bytes);
        try (BlockBitmap b = BlockBitmap.open(f, BLOCK, CAPACITY, SOURCE)) {
            assertArrayEquals(Arrays.copyOf(valid, BlockBitmap.HEADER), Arrays.copyOf(bytes, BlockBitmap.HEADER),
                    "a bitmap with a damaged header was opened");
            assertEquals(valid.length, bytes.length);
            assertEquals(BlockBitmap.words(b.blocks()), b.load().length);
        } catch (IOException refused) {
            assertTrue(refused.getMessage().startsWith("block bitmap " + f), refused.getMessage());
        } finally {
            Files.delete(f);
        }
    }

    @Property(tries = 200)
    void aFlippedByteOpensOnlyOutsideTheHeader(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int at,
                                               @ForAll @IntRange(min = 1, max = 255) int xor,
                                               @ForAll boolean inHeader) throws IOException {
        byte[] b = valid.clone();
        int i = inHeader ? at % BlockBitmap.HEADER : at % b.length;
        b[i] ^= (byte) xor;
        opensOnlyIntact(b);
    }

    @Property(tries = 100)
    void aFileCutShortOrGrownIsRefused(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int at,
                                       @ForAll @Size(max = 64) byte[] tail, @ForAll boolean grow) throws IOException {
        byte[] b = grow && tail.length > 0 ? concat(valid, tail) : Arrays.copyOf(valid, at % valid.length);
        opensOnlyIntact(b);
    }

    @Property(tries = 100)
    void randomBytesAreRefused(@ForAll @Size(max = 5000) byte[] bytes) throws IOException {
        opensOnlyIntact(bytes);
    }

    @Property(tries = 50)
    void aHeaderWithLengthsBlownUpAndAValidChecksumIsRefusedBeforeAllocating(
            @ForAll @IntRange(min = 0, max = 2) int field, @ForAll long value) throws IOException {
        ByteBuffer h = ByteBuffer.wrap(valid.clone());
        switch (field) {
            case 0 -> h.putInt(12, (int) value);              // block size
            case 1 -> h.putLong(16, value);                   // capacity
            default -> h.putShort(24, (short) value);         // source name length
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(h.array(), 0, BlockBitmap.HEADER - 4);
        h.putInt(BlockBitmap.HEADER - 4, (int) crc.getValue());
        opensOnlyIntact(h.array());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
