package dev.ferry.capture.checkpoint;

/**
 * Decodes one LZ4 block (the raw block format, no frame) with every index checked: the input is untrusted, so
 * no literal or match may reach outside the input, outside the output, or before the output's start, and the
 * block must fill the output exactly. Written here rather than taken from lz4-java 1.8.0, whose decompressors
 * do not bound every access on hostile input (CVE-2025-12183); lz4-java only compresses, on trusted input.
 */
final class Lz4BlockDecoder {
    private static final int MIN_MATCH = 4;

    private Lz4BlockDecoder() {}

    /**
     * Decodes {@code src[srcOff, srcOff + srcLen)} into exactly {@code dstLen} bytes at {@code dst[dstOff]};
     * an {@link IllegalArgumentException} says where the input breaks the format.
     */
    static void decode(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int dstLen) {
        int ip = srcOff;
        int srcEnd = srcOff + srcLen;
        int op = dstOff;
        int dstEnd = dstOff + dstLen;
        while (true) {
            if (ip >= srcEnd) {
                throw new IllegalArgumentException("LZ4 input ends before a sequence at input byte " + (ip - srcOff));
            }
            int token = src[ip++] & 0xFF;
            int literals = token >>> 4;
            if (literals == 15) {
                int b;
                do {
                    if (ip >= srcEnd) {
                        throw new IllegalArgumentException("LZ4 input ends inside a literal length");
                    }
                    b = src[ip++] & 0xFF;
                    literals += b;
                } while (b == 255 && literals <= dstLen);
            }
            if (literals > srcEnd - ip || literals > dstEnd - op) {
                throw new IllegalArgumentException("LZ4 literal run of " + literals + " bytes at input byte "
                        + (ip - srcOff) + " overruns the " + (literals > srcEnd - ip ? "input" : "output"));
            }
            System.arraycopy(src, ip, dst, op, literals);
            ip += literals;
            op += literals;
            if (ip == srcEnd) {
                break;
            }
            if (srcEnd - ip < 2) {
                throw new IllegalArgumentException("LZ4 input ends inside a match offset");
            }
            int offset = (src[ip] & 0xFF) | (src[ip + 1] & 0xFF) << 8;
            ip += 2;
            if (offset == 0 || offset > op - dstOff) {
                throw new IllegalArgumentException("LZ4 match offset " + offset + " at output byte " + (op - dstOff)
                        + " reaches outside the block");
            }
            int length = token & 0x0F;
            if (length == 15) {
                int b;
                do {
                    if (ip >= srcEnd) {
                        throw new IllegalArgumentException("LZ4 input ends inside a match length");
                    }
                    b = src[ip++] & 0xFF;
                    length += b;
                } while (b == 255 && length <= dstLen);
            }
            length += MIN_MATCH;
            if (length > dstEnd - op) {
                throw new IllegalArgumentException("LZ4 match of " + length + " bytes at output byte " + (op - dstOff)
                        + " overruns the " + dstLen + "-byte output");
            }
            copyMatch(dst, op - offset, op, length);
            op += length;
        }
        if (op != dstEnd) {
            throw new IllegalArgumentException("LZ4 block decodes to " + (op - dstOff) + " bytes, expected " + dstLen);
        }
    }

    /** Copies a match that may overlap its own output (offset smaller than length repeats the pattern). */
    private static void copyMatch(byte[] dst, int from, int to, int length) {
        while (length > 0) {
            int n = Math.min(length, to - from);
            System.arraycopy(dst, from, dst, to, n);
            to += n;
            length -= n;
        }
    }
}
