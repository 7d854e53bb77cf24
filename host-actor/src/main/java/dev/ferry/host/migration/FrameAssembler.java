package dev.ferry.host.migration;

import java.util.function.Consumer;
import org.apache.pekko.util.ByteString;

/**
 * Cuts a byte stream into length-prefixed frames (4 bytes big-endian, then the frame) into one buffer it reuses: each
 * byte is copied once, from the received chunk into the buffer, and a frame is handed on while the buffer holds it
 * (the consumer must be done with it when it returns). A length over the cap ends the stream before anything is
 * allocated for it.
 */
final class FrameAssembler {
    /** A frame as it lies in the assembler's buffer: valid only until the consumer returns. */
    record Frame(byte[] buffer, int length) {}

    private final int maxFrame;
    private final byte[] buffer;
    private final byte[] prefix = new byte[4];
    private int prefixHave;
    private int length = -1;
    private int have;

    FrameAssembler(int maxFrame) {
        this.maxFrame = maxFrame;
        this.buffer = new byte[maxFrame];
    }

    /** Takes in {@code chunk}, handing each frame it completes to {@code onFrame} in order. */
    void accept(ByteString chunk, Consumer<Frame> onFrame) {
        int at = 0;
        int size = chunk.size();
        while (at < size) {
            if (length < 0) {
                while (prefixHave < 4 && at < size) {
                    prefix[prefixHave++] = chunk.apply(at++);
                }
                if (prefixHave < 4) {
                    return;
                }
                long n = ((prefix[0] & 0xFFL) << 24) | ((prefix[1] & 0xFF) << 16) | ((prefix[2] & 0xFF) << 8)
                        | (prefix[3] & 0xFF);
                if (n > maxFrame) {
                    throw new IllegalArgumentException("a frame of " + n + " bytes is over the limit of " + maxFrame);
                }
                length = (int) n;
                have = 0;
            }
            int take = Math.min(length - have, size - at);
            if (take > 0) {
                chunk.slice(at, at + take).copyToBuffer(java.nio.ByteBuffer.wrap(buffer, have, take));
                have += take;
                at += take;
            }
            if (have == length) {
                onFrame.accept(new Frame(buffer, length));
                length = -1;
                prefixHave = 0;
            }
        }
    }
}
