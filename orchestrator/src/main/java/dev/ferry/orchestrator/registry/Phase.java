package dev.ferry.orchestrator.registry;

/** Where an instance is in its life, as the registry sees it. */
public enum Phase {
    /** Not launched yet (a fresh entity). */
    NEW,
    RUNNING,
    /** A migration saga is in progress: the instance runs at the source until the commit. */
    MIGRATING,
    /** Its VM is gone (its host left the cluster, or reported it lost or stopped); a checkpoint can bring it back. */
    LOST,
    /** A restore saga is in progress: the instance is stopped where it ran (if anywhere) and started from a checkpoint. */
    RESTORING
}
