package dev.ferry.storage.nbd;

import java.io.IOException;

/** The server answered an option with an error reply (no such export, policy, shutting down, ...). */
public final class NbdRefusedException extends IOException {
    private final int replyType;

    public NbdRefusedException(String message, int replyType) {
        super(message);
        this.replyType = replyType;
    }

    /** The NBD_REP_ERR_* value. */
    public int replyType() {
        return replyType;
    }
}
