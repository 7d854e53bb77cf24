package dev.ferry.orchestrator.registry;

/** Where an instance is in its life, as the registry sees it. */
public enum Phase {
    /** Not launched yet (a fresh entity). */
    NEW,
    RUNNING,
    /** A migration saga is in progress: the instance runs at the source until the commit. */
    MIGRATING
}
