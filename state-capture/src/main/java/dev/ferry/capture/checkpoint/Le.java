package dev.ferry.capture.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/** Little-endian views and CRC32C over byte arrays: every integer in the file is little-endian. */
final class Le {
    private Le() {}

    static ByteBuffer wrap(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    static long unsigned(int v) {
        return v & 0xFFFF_FFFFL;
    }
}
