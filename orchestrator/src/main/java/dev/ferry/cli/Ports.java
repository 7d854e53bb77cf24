package dev.ferry.cli;

/** TCP ports as operators give them: 0 (any free one) to 65535. */
final class Ports {
    private Ports() {}

    static int check(String option, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(option + " " + port + " is not a TCP port (0 to 65535)");
        }
        return port;
    }
}
