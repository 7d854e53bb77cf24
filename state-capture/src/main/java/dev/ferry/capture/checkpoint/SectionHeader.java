package dev.ferry.capture.checkpoint;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The 24 bytes before each section's payload: type (u16), flags (u16), index (u32, the section's position in
 * the file from 0), payload length (u64), payload CRC32C (u32), and a CRC32C of the 20 bytes before it, so a
 * length is trusted only once its header has checked out.
 */
record SectionHeader(int type, int flags, int index, long length, int payloadCrc) {
    static final int BYTES = 24;

    byte[] encode() {
        byte[] b = new byte[BYTES];
        ByteBuffer bb = Le.wrap(b);
        bb.putShort((short) type).putShort((short) flags).putInt(index).putLong(length).putInt(payloadCrc);
        bb.putInt(Le.crc(b, 0, 20));
        return b;
    }

    static SectionHeader decode(Path file, byte[] b, long offset, int expectedIndex) throws CheckpointFormatException {
        ByteBuffer bb = Le.wrap(b);
        int type = Short.toUnsignedInt(bb.getShort());
        int flags = Short.toUnsignedInt(bb.getShort());
        int index = bb.getInt();
        long length = bb.getLong();
        int payloadCrc = bb.getInt();
        int stored = bb.getInt();
        int computed = Le.crc(b, 0, 20);
        if (stored != computed) {
            throw CheckpointFormatException.sectionHeaderDamaged(file, expectedIndex, offset, Le.unsigned(stored),
                    Le.unsigned(computed));
        }
        if (index != expectedIndex) {
            throw CheckpointFormatException.sectionIndex(file, expectedIndex, offset, index);
        }
        return new SectionHeader(type, flags, index, length, payloadCrc);
    }

    SectionInfo info(long offset) {
        return new SectionInfo(index, type, flags, offset, length);
    }
}
