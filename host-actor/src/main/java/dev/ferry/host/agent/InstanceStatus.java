package dev.ferry.host.agent;

/** Where an instance stands on this host. */
public enum InstanceStatus {
    RUNNING,
    MIGRATING_OUT,
    MIGRATING_IN,
    /** Committed to another host: this host must never run it again. */
    MIGRATED_AWAY,
    STOPPED,
    /** Its VM died with this host's process; the journal remembers it. */
    LOST;

    public boolean occupiesMemory() {
        return this == RUNNING || this == MIGRATING_OUT || this == MIGRATING_IN;
    }
}
