package dev.ferry.capture.checkpoint;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The last 24 bytes of a checkpoint file: {@code FERRYEND}, the whole file's length, the number of sections, and
 * a CRC32C of the 20 bytes before it. A file cut short, or written only in part, has no valid footer.
 */
record FileFooter(long fileLength, int sections) {
    static final int BYTES = 24;
    static final byte[] MAGIC = {'F', 'E', 'R', 'R', 'Y', 'E', 'N', 'D'};

    byte[] encode() {
        byte[] b = new byte[BYTES];
        ByteBuffer bb = Le.wrap(b);
        bb.put(MAGIC).putLong(fileLength).putInt(sections);
        bb.putInt(Le.crc(b, 0, 20));
        return b;
    }

    static FileFooter decode(Path file, byte[] b, long size) throws CheckpointFormatException {
        if (!Arrays.equals(b, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw CheckpointFormatException.footerMissing(file, size);
        }
        ByteBuffer bb = Le.wrap(b).position(MAGIC.length);
        long length = bb.getLong();
        int sections = bb.getInt();
        int stored = bb.getInt();
        int computed = Le.crc(b, 0, 20);
        if (stored != computed) {
            throw CheckpointFormatException.footerDamaged(file, Le.unsigned(stored), Le.unsigned(computed));
        }
        if (length != size) {
            throw CheckpointFormatException.lengthMismatch(file, length, size);
        }
        return new FileFooter(length, sections);
    }
}
