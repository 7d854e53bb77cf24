package dev.ferry.host.deploy;

/** A deployment could not start; the message is for the operator (which image, which server, which file). */
public final class DeploymentException extends Exception {
    public DeploymentException(String message) {
        super(message);
    }
}
