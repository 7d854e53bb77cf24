package dev.ferry.host.migration;

/** A migration cannot go on; the message says why, for the operator. */
public final class MigrationException extends Exception {
    public MigrationException(String message) {
        super(message);
    }
}
