package dev.ferry.storage.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The file that says which blocks of a streamed image are already local: a 4 KiB header (magic {@code FERRYBLK},
 * version 1.0, block size, capacity, the source's size and name, CRC-32C) and then one bit per block, little-endian
 * 64-bit words. Bits only ever go from 0 to 1, and {@link #store} is called only with bits whose data is already
 * durable, so a torn write of the bit area leaves each word old or new, both safe.
 */
public final class BlockBitmap implements AutoCloseable {
    static final long MAGIC = 0x4645525259424C4BL;   // "FERRYBLK"
    static final int MAJOR = 1;
    static final int MINOR = 0;
    static final int HEADER = 4096;
    static final int MAX_SOURCE_NAME = 1024;
    /** At most 2^31 blocks (256 TiB of 128 KiB blocks): the word array must fit one Java array. */
    static final long MAX_BLOCKS = 1L << 31;

    private final Path file;
    private final FileChannel channel;
    private final int blockSize;
    private final long capacity;
    private final long blocks;

    private BlockBitmap(Path file, FileChannel channel, int blockSize, long capacity) {
        this.file = file;
        this.channel = channel;
        this.blockSize = blockSize;
        this.capacity = capacity;
        this.blocks = blocksOf(capacity, blockSize);
    }

    static long blocksOf(long capacity, int blockSize) {
        return (capacity + blockSize - 1) / blockSize;
    }

    static int words(long blocks) {
        return (int) ((blocks + 63) / 64);
    }

    /** Writes a new bitmap with no block local (through a temporary file and a rename). */
    public static BlockBitmap create(Path file, int blockSize, long capacity, String source) throws IOException {
        long blocks = blocksOf(capacity, blockSize);
        if (blocks > MAX_BLOCKS) {
            throw new IOException("image of " + capacity + " bytes has " + blocks + " blocks of " + blockSize
                    + ", more than " + MAX_BLOCKS + ": use larger blocks");
        }
        byte[] name = source.getBytes(StandardCharsets.UTF_8);
        if (name.length > MAX_SOURCE_NAME) {
            throw new IOException("source name of " + name.length + " bytes is longer than " + MAX_SOURCE_NAME);
        }
        ByteBuffer h = ByteBuffer.allocate(HEADER).putLong(MAGIC).putShort((short) MAJOR).putShort((short) MINOR)
                .putInt(blockSize).putLong(capacity).putShort((short) name.length).put(name);
        CRC32C crc = new CRC32C();
        crc.update(h.array(), 0, HEADER - 4);
        h.putInt(HEADER - 4, (int) crc.getValue());
        Path tmp = file.resolveSibling(file.getFileName() + ".new");
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            h.rewind();
            writeFully(c, h, 0);
            writeFully(c, ByteBuffer.allocate(words(blocks) * 8), HEADER);
            c.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return open(file, blockSize, capacity, source);
    }

    /** What a stored bitmap describes and how much of it is local: for reports about a disk nobody has open. */
    public record Summary(int blockSize, long capacity, String source, long blocksLocal, long blocksTotal) {
        /** The bytes of the image already local (the last block may be short). */
        public long bytesLocal() {
            return Math.min(capacity, blocksLocal * (long) blockSize);
        }
    }

    /** Reads the bitmap at {@code file} (header checked, bits counted) without opening it for writing. */
    public static Summary summarize(Path file) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = readHeader(file, c);
            long blocks = blocksOf(h.capacity(), h.blockSize());
            ByteBuffer b = ByteBuffer.allocate(words(blocks) * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            readFully(c, b, HEADER);
            b.flip();
            long local = 0;
            while (b.hasRemaining()) {
                local += Long.bitCount(b.getLong());
            }
            return new Summary(h.blockSize(), h.capacity(), h.source(), local, blocks);
        }
    }

    private record Header(int blockSize, long capacity, String source) {}

    /** Reads and checks the header: magic, major version, CRC, name length, and the file's size for its bits. */
    private static Header readHeader(Path file, FileChannel c) throws IOException {
        long size = c.size();
        if (size < HEADER) {
            throw bad(file, "is " + size + " bytes, shorter than its " + HEADER + "-byte header");
        }
        ByteBuffer h = ByteBuffer.allocate(HEADER);
        readFully(c, h, 0);
        h.flip();
        if (h.getLong() != MAGIC) {
            throw bad(file, "is not a Ferry block bitmap (no FERRYBLK magic)");
        }
        int major = Short.toUnsignedInt(h.getShort());
        int minor = Short.toUnsignedInt(h.getShort());
        if (major != MAJOR) {
            throw bad(file, "is version " + major + "." + minor + ", this build reads " + MAJOR + ".x");
        }
        CRC32C crc = new CRC32C();
        crc.update(h.array(), 0, HEADER - 4);
        if ((int) crc.getValue() != h.getInt(HEADER - 4)) {
            throw bad(file, "has a damaged header (CRC mismatch)");
        }
        int bs = h.getInt();
        long cap = h.getLong();
        int nameLength = Short.toUnsignedInt(h.getShort());
        if (nameLength > MAX_SOURCE_NAME) {
            throw bad(file, "names a source of " + nameLength + " bytes, more than " + MAX_SOURCE_NAME);
        }
        if (bs < 512 || Integer.bitCount(bs) != 1 || cap < 0 || blocksOf(cap, bs) > MAX_BLOCKS) {
            throw bad(file, "describes " + cap + " bytes in blocks of " + bs + ", which no streaming disk makes");
        }
        byte[] name = new byte[nameLength];
        h.get(name);
        long expected = HEADER + 8L * words(blocksOf(cap, bs));
        if (size != expected) {
            throw bad(file, "is " + size + " bytes, expected " + expected);
        }
        return new Header(bs, cap, new String(name, StandardCharsets.UTF_8));
    }

    /** Opens an existing bitmap, refusing one made for another block size, capacity or source. */
    public static BlockBitmap open(Path file, int blockSize, long capacity, String source) throws IOException {
        FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            Header h = readHeader(file, c);
            if (h.blockSize() != blockSize || h.capacity() != capacity) {
                throw bad(file, "describes " + h.capacity() + " bytes in blocks of " + h.blockSize() + ", not "
                        + capacity + " in blocks of " + blockSize);
            }
            if (!h.source().equals(source)) {
                throw bad(file, "was made for source '" + h.source() + "', not '" + source + "'");
            }
            return new BlockBitmap(file, c, blockSize, capacity);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static IOException bad(Path file, String what) {
        return new IOException("block bitmap " + file + " " + what);
    }

    public Path file() {
        return file;
    }

    public long blocks() {
        return blocks;
    }

    public int blockSize() {
        return blockSize;
    }

    public long capacity() {
        return capacity;
    }

    /** The bits as stored. */
    public long[] load() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(words(blocks) * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        readFully(channel, b, HEADER);
        b.flip();
        long[] w = new long[words(blocks)];
        b.asLongBuffer().get(w);
        return w;
    }

    /** Writes {@code words} (every bit set must describe durable data) and makes them durable. */
    public void store(long[] words) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(words.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(words);
        writeFully(channel, b, HEADER);
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    static void writeFully(FileChannel c, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            pos += c.write(b, pos);
        }
    }

    static void readFully(FileChannel c, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = c.read(b, pos);
            if (n < 0) {
                throw new java.io.EOFException("unexpected end of " + c + " at " + pos);
            }
            pos += n;
        }
    }
}
