package dev.ferry.storage.nbd;

import java.io.IOException;

/**
 * The peer sent something the NBD protocol (or Ferry's limits on it) does not allow: a wrong magic, a length over its
 * cap, a truncated message, a malformed string. The message names the message and the field.
 */
public class NbdProtocolException extends IOException {
    public NbdProtocolException(String message) {
        super(message);
    }

    /** The connection ended before a whole message arrived. */
    public static final class Truncated extends NbdProtocolException {
        private final int received;

        public Truncated(String what, int received, int expected) {
            super(what + ": the connection ended after " + received + " of " + expected + " bytes");
            this.received = received;
        }

        /** Bytes of the message that did arrive (0: the peer closed between messages). */
        public int received() {
            return received;
        }
    }
}
