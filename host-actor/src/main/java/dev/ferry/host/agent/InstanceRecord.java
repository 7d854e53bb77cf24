package dev.ferry.host.agent;

import java.util.Map;

/** What the journal says about one instance on this host. */
public record InstanceRecord(String id, String guest, long memory, Map<String, String> args, long epoch,
                             InstanceStatus status, String migrationId, String note) {
    public InstanceRecord {
        args = Map.copyOf(args);
    }

    InstanceRecord with(InstanceStatus s, String migration, String why) {
        return new InstanceRecord(id, guest, memory, args, epoch, s, migration, why);
    }

    InstanceRecord withEpoch(long e) {
        return new InstanceRecord(id, guest, memory, args, e, status, migrationId, note);
    }
}
