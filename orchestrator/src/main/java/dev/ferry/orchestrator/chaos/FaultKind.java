package dev.ferry.orchestrator.chaos;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The kinds of fault the runner injects, as they are named on the command line. */
public enum FaultKind {
    /** kill -9 of a node (orchestrator, storage, a host), at random or at a chosen phase of a migration. */
    KILL("kill"),
    /** A node cut off from every other one: its network namespace's link goes down, then up. */
    PARTITION("partition"),
    /** Added delay and loss on the link between the storage node and a host. */
    DELAY("delay"),
    /** A host's data directory (a small tmpfs) filled up, then emptied. */
    DISK_FULL("disk-full");

    private final String cliName;

    FaultKind(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** Parses {@code kill,partition,delay,disk-full} (any subset, any order; "all" for every one; "none" for none). */
    public static Set<FaultKind> parseList(String list) {
        Set<FaultKind> out = EnumSet.noneOf(FaultKind.class);
        String trimmed = list.trim().toLowerCase(Locale.ROOT);
        if (trimmed.equals("all")) {
            return EnumSet.allOf(FaultKind.class);
        }
        if (trimmed.equals("none") || trimmed.isEmpty()) {
            return out;
        }
        for (String part : trimmed.split(",")) {
            String name = part.trim();
            FaultKind found = null;
            for (FaultKind k : values()) {
                if (k.cliName.equals(name)) {
                    found = k;
                }
            }
            if (found == null) {
                throw new IllegalArgumentException("unknown fault '" + name + "' in --faults " + list
                        + ": use kill, partition, delay, disk-full (comma-separated), all or none");
            }
            out.add(found);
        }
        return out;
    }
}
