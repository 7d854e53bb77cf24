package dev.ferry.orchestrator.http;

/** A request the API answers with {@code status} and {@code message} (an {@code ApiError}). */
final class ApiException extends RuntimeException {
    private final int status;

    ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    int status() {
        return status;
    }
}
