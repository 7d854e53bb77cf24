package dev.ferry.storage.nbd;

import java.io.IOException;

/** The server answered a transmission request with an NBD error (EPERM, EINVAL, EIO, ...). */
public final class NbdCommandException extends IOException {
    private final int error;
    private final String serverMessage;

    public NbdCommandException(String message, int error) {
        this(message, error, "");
    }

    /** {@code serverMessage}: the text an error chunk carried (empty if none). */
    public NbdCommandException(String message, int error, String serverMessage) {
        super(message + ": " + Nbd.errorName(error) + (serverMessage.isEmpty() ? "" : " (" + serverMessage + ")"));
        this.error = error;
        this.serverMessage = serverMessage;
    }

    /** The NBD error number (equal to the Linux errno). */
    public int error() {
        return error;
    }

    /** What the server said of the error in a structured reply, or empty. */
    public String serverMessage() {
        return serverMessage;
    }
}
