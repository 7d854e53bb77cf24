package dev.ferry.capture.checkpoint;

import dev.ferry.protocol.v1.MachineProto;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;

/**
 * Takes checkpoint files apart and puts them back together with valid checksums, to forge files that are
 * well-formed on the outside and hostile inside.
 */
final class CheckpointBytes {
    /** One section: type, flags, payload. */
    record Part(int type, int flags, byte[] payload) {
        Part withPayload(byte[] p) {
            return new Part(type, flags, p);
        }
    }

    private CheckpointBytes() {}

    /** The sections of a well-formed file. */
    static List<Part> parts(byte[] file) {
        List<Part> parts = new ArrayList<>();
        int pos = FileHeader.BYTES;
        while (pos < file.length - FileFooter.BYTES) {
            ByteBuffer h = Le.wrap(file).position(pos);
            int type = Short.toUnsignedInt(h.getShort());
            int flags = Short.toUnsignedInt(h.getShort());
            h.getInt();
            int length = (int) h.getLong();
            int start = pos + SectionHeader.BYTES;
            parts.add(new Part(type, flags, Arrays.copyOfRange(file, start, start + length)));
            pos = start + length;
        }
        return parts;
    }

    static byte[] build(FormatVersion version, List<Part> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new FileHeader(version, 0).encode());
        for (int i = 0; i < parts.size(); i++) {
            Part p = parts.get(i);
            out.writeBytes(new SectionHeader(p.type(), p.flags(), i, p.payload().length, crc(p.payload())).encode());
            out.writeBytes(p.payload());
        }
        out.writeBytes(new FileFooter(out.size() + FileFooter.BYTES, parts.size()).encode());
        return out.toByteArray();
    }

    static byte[] withVersion(byte[] file, int major, int minor) {
        return build(new FormatVersion(major, minor), parts(file));
    }

    static byte[] edit(byte[] file, UnaryOperator<List<Part>> change) {
        return build(FormatVersion.CURRENT, change.apply(new ArrayList<>(parts(file))));
    }

    static int indexOf(byte[] file, SectionType type) {
        List<Part> parts = parts(file);
        for (int i = 0; i < parts.size(); i++) {
            if (parts.get(i).type() == type.code()) {
                return i;
            }
        }
        throw new AssertionError("no " + type);
    }

    /** Offset of section {@code index}'s header. */
    static int offsetOf(byte[] file, int index) {
        int pos = FileHeader.BYTES;
        for (int i = 0; i < index; i++) {
            pos += SectionHeader.BYTES + (int) Le.wrap(file).getLong(pos + 8);
        }
        return pos;
    }

    /** Sets section {@code index}'s length field (its header CRC made valid again, nothing else changed). */
    static byte[] withLengthField(byte[] file, int index, long length) {
        byte[] f = file.clone();
        int at = offsetOf(f, index);
        ByteBuffer h = Le.wrap(f);
        h.putLong(at + 8, length);
        h.putInt(at + 20, Le.crc(f, at, 20));
        return f;
    }

    /** Replaces META with {@code change} applied to it. */
    static byte[] withMeta(byte[] file, UnaryOperator<MachineProto.CheckpointMeta.Builder> change) throws Exception {
        int i = indexOf(file, SectionType.META);
        MachineProto.CheckpointMeta m = MachineProto.CheckpointMeta.parseFrom(parts(file).get(i).payload());
        byte[] meta = change.apply(m.toBuilder()).build().toByteArray();
        return edit(file, ps -> {
            ps.set(i, ps.get(i).withPayload(meta));
            return ps;
        });
    }

    /** A MEMORY payload: preamble, then the given blocks. */
    static byte[] memory(long guestPages, boolean incremental, byte[]... blocks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new MemoryPreamble(guestPages, MemoryPreamble.MAX_BLOCK_PAGES, incremental).encode());
        for (byte[] b : blocks) {
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    /** A block with a valid CRC over whatever it is given; the page count is taken from {@code present}. */
    static byte[] block(long firstPage, int span, long[] present, long[] zero, int encoding, byte[] data) {
        int words = present.length;
        int count = Arrays.stream(present).mapToInt(Long::bitCount).sum();
        byte[] b = new byte[BlockHeader.BYTES + 2 * words * 8 + data.length];
        ByteBuffer bb = Le.wrap(b);
        new BlockHeader(firstPage, span, count, encoding, data.length, 0).writeTo(bb);
        for (int i = 0; i < words; i++) {
            bb.putLong(BlockHeader.BYTES + i * 8, present[i]);
            bb.putLong(BlockHeader.BYTES + (words + i) * 8, zero[i]);
        }
        System.arraycopy(data, 0, b, BlockHeader.BYTES + 2 * words * 8, data.length);
        CRC32C c = new CRC32C();
        c.update(b, 0, 20);
        c.update(b, BlockHeader.BYTES, b.length - BlockHeader.BYTES);
        bb.putInt(20, (int) c.getValue());
        return b;
    }

    /** A raw block of one page at {@code page} filled with {@code fill}. */
    static byte[] onePage(long page, byte fill) {
        byte[] data = new byte[GuestPages.PAGE];
        Arrays.fill(data, fill);
        return block(page, 1, new long[] {1}, new long[] {0}, BlockHeader.RAW, data);
    }

    private static int crc(byte[] b) {
        return Le.crc(b, 0, b.length);
    }
}
