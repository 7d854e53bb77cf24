package dev.ferry.host.migration;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.protocol.v1.Abort;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The messages the agent forwards to one migration runner, and waiting for a given kind with a deadline. */
final class Inbox {
    private final BlockingQueue<GeneratedMessage> queue = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    void deliver(GeneratedMessage m) {
        queue.add(m);
    }

    void cancel() {
        cancelled = true;
        queue.add(Abort.newBuilder().setReason("cancelled by the operator").build());
    }

    boolean cancelled() {
        return cancelled;
    }

    /** The next message of type {@code type}; an {@link Abort} from the peer or a cancel ends the wait with an error. */
    <T extends GeneratedMessage> T await(Class<T> type, long timeoutMillis, String waitingFor)
            throws InterruptedException, MigrationException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            GeneratedMessage m = left > 0 ? queue.poll(left, TimeUnit.MILLISECONDS) : null;
            if (m == null) {
                throw new MigrationException("no " + waitingFor + " within " + timeoutMillis + " ms");
            }
            if (m instanceof Abort a) {
                throw new MigrationException(cancelled ? a.getReason() : "peer aborted: " + a.getReason());
            }
            if (type.isInstance(m)) {
                return type.cast(m);
            }
        }
    }

    /** Throws if the operator cancelled or the peer aborted since the last look. */
    void check() throws MigrationException {
        for (GeneratedMessage m : queue) {
            if (m instanceof Abort a) {
                queue.remove(m);
                throw new MigrationException(cancelled ? a.getReason() : "peer aborted: " + a.getReason());
            }
        }
    }
}
