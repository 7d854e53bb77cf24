package dev.ferry.capture.checkpoint;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A DEVICE section's payload: the device's name (u16 length, then UTF-8), then its state, opaque bytes its
 * owner supplies, to the end of the payload.
 */
record DeviceSection(String name, byte[] state) {
    static final int MAX_NAME = 255;

    DeviceSection {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        if (n.length == 0 || n.length > MAX_NAME) {
            throw new IllegalArgumentException("device name '" + name + "' must be 1 to " + MAX_NAME + " bytes");
        }
    }

    byte[] encode() {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(2 + n.length + state.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return b.putShort((short) n.length).put(n).put(state).array();
    }

    /** Decodes a payload; an {@link IllegalArgumentException} says what is wrong with it. */
    static DeviceSection decode(byte[] payload) {
        if (payload.length < 2) {
            throw new IllegalArgumentException("device payload of " + payload.length + " bytes has no name length");
        }
        int n = Short.toUnsignedInt(Le.wrap(payload).getShort());
        if (n == 0 || n > MAX_NAME || 2 + n > payload.length) {
            throw new IllegalArgumentException("device name of " + n + " bytes does not fit 1 to " + MAX_NAME
                    + " bytes within the " + payload.length + "-byte payload");
        }
        String name;
        try {
            name = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload, 2, n)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("device name is not UTF-8");
        }
        return new DeviceSection(name, Arrays.copyOfRange(payload, 2 + n, payload.length));
    }
}
