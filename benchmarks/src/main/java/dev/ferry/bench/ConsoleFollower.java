package dev.ferry.bench;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.ConsoleReply;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Polls one instance's console on one host agent every {@code periodMillis} and hands every line it returns to a
 * {@link GuestReports} under a role. A host stops answering for an instance once it migrated away, so the source is
 * followed while the migration runs and the destination after it.
 */
final class ConsoleFollower implements AutoCloseable {
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Exception lastError;
    private volatile int errors;

    ConsoleFollower(HostClient client, ActorRef<GeneratedMessage> agent, String id, String role, GuestReports reports,
                    long periodMillis, int maxLines) {
        thread = new Thread(() -> {
            while (running) {
                try {
                    ConsoleReply r = client.console(agent, id, maxLines);
                    for (String line : r.getLinesList()) {
                        reports.accept(role, line);
                    }
                } catch (Exception e) {
                    if (!running) {
                        return;
                    }
                    lastError = e;
                    errors++;
                }
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "console-" + role + "-" + id);
        thread.setDaemon(true);
        thread.start();
    }

    /** Polls that failed (an ask that timed out, say); the lines of the polls before and after still count. */
    int errors() {
        return errors;
    }

    String lastError() {
        Exception e = lastError;
        return e == null ? "" : e.toString();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(35_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
