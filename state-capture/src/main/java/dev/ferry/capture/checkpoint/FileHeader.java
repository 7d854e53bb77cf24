package dev.ferry.capture.checkpoint;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The first 24 bytes of every checkpoint file, the same in every version: magic, major, minor, flags, a
 * reserved word and a CRC32C of the 20 bytes before it. A reader checks them in that order (so a damaged header
 * is reported as damage, not as a strange version) and reads nothing else of a version it does not know.
 */
record FileHeader(FormatVersion version, int flags) {
    static final int BYTES = 24;
    /** {@code \x89FERRY\r\n}: not text, and a line-ending conversion in transit breaks it visibly. */
    static final byte[] MAGIC = {(byte) 0x89, 'F', 'E', 'R', 'R', 'Y', '\r', '\n'};

    byte[] encode() {
        byte[] b = new byte[BYTES];
        ByteBuffer bb = Le.wrap(b);
        bb.put(MAGIC).putShort((short) version.major()).putShort((short) version.minor()).putInt(flags).putInt(0);
        bb.putInt(Le.crc(b, 0, 20));
        return b;
    }

    /** Checks {@code b} (the file's first {@code min(size, 24)} bytes) and returns the header it holds. */
    static FileHeader decode(Path file, byte[] b, long size, long minimumFile) throws CheckpointFormatException {
        int n = Math.min(b.length, MAGIC.length);
        if (!Arrays.equals(b, 0, n, MAGIC, 0, n)) {
            throw CheckpointFormatException.notACheckpoint(file, Arrays.copyOf(b, n), MAGIC);
        }
        if (b.length < BYTES) {
            throw CheckpointFormatException.tooShort(file, size, minimumFile);
        }
        ByteBuffer bb = Le.wrap(b).position(MAGIC.length);
        int major = Short.toUnsignedInt(bb.getShort());
        int minor = Short.toUnsignedInt(bb.getShort());
        int flags = bb.getInt();
        bb.getInt();
        int stored = bb.getInt();
        int computed = Le.crc(b, 0, 20);
        if (stored != computed) {
            throw CheckpointFormatException.headerDamaged(file, Le.unsigned(stored), Le.unsigned(computed));
        }
        FormatVersion version = new FormatVersion(major, minor);
        if (!version.isReadable()) {
            throw CheckpointFormatException.unreadableVersion(file, version);
        }
        if (flags != 0) {
            throw CheckpointFormatException.unknownHeaderFlags(file, flags);
        }
        if (size < minimumFile) {
            throw CheckpointFormatException.tooShort(file, size, minimumFile);
        }
        return new FileHeader(version, flags);
    }
}
