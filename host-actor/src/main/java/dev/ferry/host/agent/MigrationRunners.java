package dev.ferry.host.agent;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.migration.MigrationDestination;
import dev.ferry.host.migration.MigrationSource;
import dev.ferry.protocol.v1.Abort;
import dev.ferry.protocol.v1.Commit;
import dev.ferry.protocol.v1.Committed;
import dev.ferry.protocol.v1.FinalState;
import dev.ferry.protocol.v1.MigrationAccept;
import dev.ferry.protocol.v1.MigrationReject;
import dev.ferry.protocol.v1.StateVerified;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The migrations running on this host, both ways, and the messages between their two sides. Those go straight from
 * the gateway to the runner's thread, not through the agent's mailbox: the switchover's round trips are downtime, and
 * the agent may be busy (persisting, answering status) just then. The agent adds a runner before the peer can know
 * of it and removes it when it ends.
 */
final class MigrationRunners {
    private final Map<String, MigrationSource> outgoing = new ConcurrentHashMap<>();
    private final Map<String, MigrationDestination> incoming = new ConcurrentHashMap<>();
    private final Executor workers;

    MigrationRunners(Executor workers) {
        this.workers = workers;
    }

    Map<String, MigrationSource> outgoing() {
        return outgoing;
    }

    Map<String, MigrationDestination> incoming() {
        return incoming;
    }

    /** Hands {@code m} to its runner if it is a message between the two sides of a migration; false otherwise. */
    boolean route(GeneratedMessage m) {
        if (m instanceof MigrationAccept a) {
            toSource(a.getMigrationId(), m);
        } else if (m instanceof MigrationReject r) {
            toSource(r.getMigrationId(), m);
        } else if (m instanceof StateVerified v) {
            toSource(v.getMigrationId(), m);
        } else if (m instanceof Committed c) {
            toSource(c.getMigrationId(), m);
        } else if (m instanceof FinalState fs) {
            MigrationDestination d = incoming.get(fs.getMigrationId());
            if (d != null) {
                workers.execute(() -> d.onFinalState(fs));
            }
        } else if (m instanceof Commit c) {
            MigrationDestination d = incoming.get(c.getMigrationId());
            if (d != null) {
                workers.execute(() -> d.onCommit(c));
            }
        } else if (m instanceof Abort a) {
            toSource(a.getMigrationId(), m);
            MigrationDestination d = incoming.get(a.getMigrationId());
            if (d != null) {
                workers.execute(() -> d.onAbort(a.getReason()));
            }
        } else {
            return false;
        }
        return true;
    }

    void toSource(String migrationId, GeneratedMessage m) {
        MigrationSource src = outgoing.get(migrationId);
        if (src != null) {
            src.deliver(m);
        }
    }
}
