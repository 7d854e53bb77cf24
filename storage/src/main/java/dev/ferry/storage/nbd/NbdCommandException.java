package dev.ferry.storage.nbd;

import java.io.IOException;

/** The server answered a transmission request with an NBD error (EPERM, EINVAL, EIO, ...). */
public final class NbdCommandException extends IOException {
    private final int error;

    public NbdCommandException(String message, int error) {
        super(message + ": " + Nbd.errorName(error));
        this.error = error;
    }

    /** The NBD error number (equal to the Linux errno). */
    public int error() {
        return error;
    }
}
