package dev.ferry.host.local;

/**
 * Ends a node when the process that started it is gone. {@link HostProcess} passes its own pid as
 * {@value #PROPERTY}; while the node's parent is still that process nothing happens, and once the node has been
 * handed to another parent (its starter was killed, even with SIGKILL) the node exits through its shutdown hooks.
 * So a test or benchmark that is interrupted leaves no node behind. Nodes of {@code ferry cluster up}, meant to
 * outlive the command, are started without it.
 */
public final class ParentWatch {
    public static final String PROPERTY = "ferry.node.parent-pid";
    private static final long POLL_MILLIS = 500;

    private ParentWatch() {}

    /** Starts watching if {@value #PROPERTY} is set; {@code node} names this node in the message it prints. */
    public static void startIfAsked(String node) {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return;
        }
        long expected = Long.parseLong(value.trim());
        Thread t = new Thread(() -> watch(node, expected), "ferry-parent-watch");
        t.setDaemon(true);
        t.start();
    }

    /** Whether this process's parent is still the process {@code expected}. */
    static boolean parentIs(long expected) {
        return ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L) == expected;
    }

    private static void watch(String node, long expected) {
        try {
            while (parentIs(expected)) {
                Thread.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            return;
        }
        System.err.println("ferry: node " + node + ": the process that started it (pid " + expected
                + ") is gone; stopping");
        System.exit(0);
    }
}
