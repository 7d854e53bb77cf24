package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Reads a MEMORY section block by block, checking each block completely (bounds, bitmaps, lengths, CRC32C,
 * LZ4 data decoding to exactly its pages) before any of its pages is written into guest memory, and the
 * section's CRC32C at its end. With no target it only checks. Buffers are reused; nothing is allocated per page.
 */
final class MemorySectionReader {
    private static final int BLOCK_BYTES = MemoryPreamble.MAX_BLOCK_PAGES * BlockBuffer.PAGE;
    private static final int READ_BUFFER = 1 << 20;

    private final Path file;
    private final FileChannel channel;
    private final SectionInfo section;
    private final int sectionCrc;
    private final CheckpointMeta meta;
    private final byte[] head = new byte[BlockHeader.BYTES + 2 * 4 * Long.BYTES];
    private final ByteBuffer headView = Le.wrap(head);
    private final long[] present = new long[4];
    private final long[] zero = new long[4];
    private byte[] stored = new byte[0];
    private byte[] decoded = new byte[0];
    private ByteBuffer storedView = ByteBuffer.wrap(stored);
    private ByteBuffer decodedView = ByteBuffer.wrap(decoded);
    private final ByteBuffer zeroView = ByteBuffer.wrap(BlockBuffer.ZERO_PAGE);
    private final CRC32C crc = new CRC32C();

    MemorySectionReader(Path file, FileChannel channel, SectionInfo section, int sectionCrc, CheckpointMeta meta) {
        this.file = file;
        this.channel = channel;
        this.section = section;
        this.sectionCrc = sectionCrc;
        this.meta = meta;
    }

    /** The most a MEMORY section of a guest with {@code pages} pages can take: every page in a block of its own. */
    static long cap(long pages) {
        return MemoryPreamble.BYTES + pages * (BlockBuffer.PAGE + BlockHeader.BYTES + 2 * Long.BYTES);
    }

    /** Checks every block and, if {@code target} is not null, writes its pages there; returns what it held. */
    MemoryStats read(GuestMemory target) throws IOException {
        long guestPages = meta.pageCount();
        if (Long.compareUnsigned(section.length(), cap(guestPages)) > 0) {
            throw CheckpointFormatException.sectionOverCap(file, section, cap(guestPages));
        }
        SectionInput in = new SectionInput(file, channel, section.payloadOffset(), section.length(), READ_BUFFER);
        MemoryPreamble preamble = preamble(in, guestPages);
        long nextPage = 0;
        long blocks = 0;
        long pages = 0;
        long zeroPages = 0;
        long storedBytes = 0;
        while (in.remaining() > 0) {
            long at = in.position();
            BlockHeader h = header(in, blocks, at);
            if (h.span() < 1 || h.span() > preamble.blockPages()) {
                throw bad(blocks, at, "spans " + h.span() + " pages; this file's blocks span 1 to "
                        + preamble.blockPages());
            }
            if (h.firstPage() < nextPage) {
                throw bad(blocks, at, "starts at page " + Long.toUnsignedString(h.firstPage())
                        + ", not after the previous block's last page " + (nextPage - 1) + ": pages must ascend");
            }
            if (h.firstPage() > guestPages - h.span()) {
                throw bad(blocks, at, "covers pages " + h.firstPage() + " to " + (h.firstPage() + h.span() - 1)
                        + ", beyond the guest's " + guestPages + " pages");
            }
            int zeros = bitmaps(in, h, blocks, at);
            int dataPages = h.presentCount() - zeros;
            int rawLength = dataPages * BlockBuffer.PAGE;
            checkEncoding(h, rawLength, in.remaining(), blocks, at);
            reserve(rawLength);
            in.readFully(stored, 0, h.storedLength());
            crc.reset();
            crc.update(head, 0, 20);
            crc.update(head, BlockHeader.BYTES, 2 * h.bitmapWords() * Long.BYTES);
            crc.update(stored, 0, h.storedLength());
            if ((int) crc.getValue() != h.crc()) {
                throw CheckpointFormatException.blockDamaged(file, section, blocks, at, Le.unsigned(h.crc()),
                        crc.getValue());
            }
            ByteBuffer data = storedView;
            if (h.encoding() == BlockHeader.LZ4) {
                try {
                    Lz4BlockDecoder.decode(stored, 0, h.storedLength(), decoded, 0, rawLength);
                } catch (IllegalArgumentException e) {
                    throw bad(blocks, at, e.getMessage());
                }
                data = decodedView;
            }
            if (target != null) {
                apply(target, h, data);
            }
            blocks++;
            pages += h.presentCount();
            zeroPages += zeros;
            storedBytes += h.storedLength();
            nextPage = h.firstPage() + h.span();
        }
        FileScan.checkCrc(file, section, sectionCrc, in.crc());
        return new MemoryStats(blocks, pages, zeroPages, storedBytes);
    }

    /** Grows the block buffers to hold {@code bytes} (at most a block's worth, checked before). */
    private void reserve(int bytes) {
        if (stored.length < bytes) {
            int n = Math.min(BLOCK_BYTES, Math.max(bytes, 2 * stored.length));
            stored = new byte[n];
            decoded = new byte[n];
            storedView = ByteBuffer.wrap(stored);
            decodedView = ByteBuffer.wrap(decoded);
        }
    }

    private MemoryPreamble preamble(SectionInput in, long guestPages) throws IOException {
        if (in.remaining() < MemoryPreamble.BYTES) {
            throw CheckpointFormatException.badPayload(file, section, "holds " + in.remaining()
                    + " bytes, less than its " + MemoryPreamble.BYTES + "-byte preamble");
        }
        byte[] b = new byte[MemoryPreamble.BYTES];
        in.readFully(b, 0, b.length);
        MemoryPreamble p;
        try {
            p = MemoryPreamble.decode(b);
        } catch (IllegalArgumentException e) {
            throw CheckpointFormatException.badPayload(file, section, e.getMessage());
        }
        if (p.guestPages() != guestPages || p.incremental() != meta.isIncremental()) {
            throw CheckpointFormatException.badPayload(file, section, "describes " + p.guestPages() + " pages, "
                    + (p.incremental() ? "incremental" : "full") + "; META says " + guestPages + " pages, "
                    + (meta.isIncremental() ? "incremental" : "full"));
        }
        return p;
    }

    private BlockHeader header(SectionInput in, long block, long at) throws IOException {
        if (in.remaining() < BlockHeader.BYTES) {
            throw bad(block, at, "header needs " + BlockHeader.BYTES + " bytes, only " + in.remaining()
                    + " remain in the section");
        }
        in.readFully(head, 0, BlockHeader.BYTES);
        try {
            return BlockHeader.readFrom(headView);
        } catch (IllegalArgumentException e) {
            throw bad(block, at, e.getMessage());
        }
    }

    /** Reads and checks both bitmaps; returns the number of zero pages. */
    private int bitmaps(SectionInput in, BlockHeader h, long block, long at) throws IOException {
        int words = h.bitmapWords();
        if (in.remaining() < 2L * words * Long.BYTES) {
            throw bad(block, at, "bitmaps need " + 2 * words * Long.BYTES + " bytes, only " + in.remaining()
                    + " remain in the section");
        }
        in.readFully(head, BlockHeader.BYTES, 2 * words * Long.BYTES);
        int presentCount = 0;
        int zeroCount = 0;
        for (int i = 0; i < words; i++) {
            present[i] = headView.getLong(BlockHeader.BYTES + i * Long.BYTES);
            zero[i] = headView.getLong(BlockHeader.BYTES + (words + i) * Long.BYTES);
            presentCount += Long.bitCount(present[i]);
            zeroCount += Long.bitCount(zero[i]);
            if ((zero[i] & ~present[i]) != 0) {
                throw bad(block, at, "marks a page zero that it does not hold");
            }
        }
        int tail = h.span() & 63;
        if (tail != 0 && (present[words - 1] >>> tail) != 0) {
            throw bad(block, at, "holds pages beyond its span of " + h.span());
        }
        if (presentCount != h.presentCount() || presentCount == 0) {
            throw bad(block, at, "says it holds " + h.presentCount() + " pages, its bitmap " + presentCount
                    + (presentCount == 0 ? " (a block holds at least one)" : ""));
        }
        return zeroCount;
    }

    private void checkEncoding(BlockHeader h, int rawLength, long remaining, long block, long at)
            throws CheckpointFormatException {
        long storedLength = Le.unsigned(h.storedLength());
        boolean ok = switch (h.encoding()) {
            case BlockHeader.RAW -> storedLength == rawLength;
            case BlockHeader.LZ4 -> rawLength > 0 && storedLength > 0 && storedLength <= rawLength;
            default -> false;
        };
        if (!ok) {
            throw bad(block, at, "stores " + storedLength + " bytes as encoding " + h.encoding() + " for "
                    + rawLength + " bytes of pages; expected encoding 0 (raw, exactly that length) or 1 (LZ4, at"
                    + " most that length)");
        }
        if (storedLength > remaining) {
            throw bad(block, at, "stores " + storedLength + " bytes, only " + remaining + " remain in the section");
        }
    }

    private void apply(GuestMemory target, BlockHeader h, ByteBuffer data) {
        int next = 0;
        for (int i = 0; i < h.bitmapWords(); i++) {
            long bits = present[i];
            while (bits != 0) {
                int bit = Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                long page = h.firstPage() + (i << 6) + bit;
                if ((zero[i] & (1L << bit)) != 0) {
                    target.writePage(page, zeroView.position(0));
                } else {
                    target.writePage(page, data.position(next));
                    next += BlockBuffer.PAGE;
                }
            }
        }
    }

    private CheckpointFormatException bad(long block, long at, String what) {
        return CheckpointFormatException.badBlock(file, section, block, at, what);
    }
}
