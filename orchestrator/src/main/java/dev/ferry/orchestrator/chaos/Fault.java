package dev.ferry.orchestrator.chaos;

/** What the runner breaks, and for how long. */
public sealed interface Fault extends Step {
    FaultKind kind();

    static String seconds(long millis) {
        return String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    /** When a kill strikes. */
    enum KillPhase {
        /** At once, whatever the node is doing. */
        ANY("now"),
        /** The source host, once a migration of the instance has done a pre-copy round. */
        MIGRATION_SOURCE("as the source of a migration, after its first pre-copy round"),
        /** The destination host, once a migration of the instance has done a pre-copy round. */
        MIGRATION_DESTINATION("as the destination of a migration, after its first pre-copy round"),
        /** The orchestrator, while it runs the migration saga of the instance. */
        MID_SAGA("in the middle of a migration saga");

        private final String words;

        KillPhase(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    /**
     * kill -9 of {@code node} (for a migration phase: the role's node, resolved when it strikes; {@code instance} and
     * {@code toHost} say which migration), restarted with the same name and data after {@code restartAfterMillis}.
     */
    record Kill(long atMillis, String node, KillPhase phase, String instance, String toHost, long restartAfterMillis)
            implements Fault {
        public FaultKind kind() {
            return FaultKind.KILL;
        }

        public String describe() {
            String who = switch (phase) {
                case ANY -> node;
                case MIGRATION_SOURCE -> "the source host";
                case MIGRATION_DESTINATION -> "the destination host";
                case MID_SAGA -> "orchestrator " + node;
            };
            String which = phase == KillPhase.ANY ? "" : " (migrating " + instance + " to " + toHost + ")";
            return "kill -9 " + who + " " + phase.words() + which + ", restart after "
                    + seconds(restartAfterMillis);
        }
    }

    /** {@code node} cut off from every other node for {@code durationMillis}, then the link comes back. */
    record Partition(long atMillis, String node, long durationMillis) implements Fault {
        public FaultKind kind() {
            return FaultKind.PARTITION;
        }

        public String describe() {
            return "partition " + node + " from the others for " + seconds(durationMillis);
        }
    }

    /**
     * Every {@code delayMillis} more on the link between the storage node and {@code host}, and {@code lossPercent}
     * of its segments lost (each costs a retransmission timeout), for {@code durationMillis}.
     */
    record Delay(long atMillis, String host, long delayMillis, int lossPercent, long durationMillis) implements Fault {
        public FaultKind kind() {
            return FaultKind.DELAY;
        }

        public String describe() {
            return "delay s1<->" + host + " by " + delayMillis + " ms, " + lossPercent + "% loss, for "
                    + seconds(durationMillis);
        }
    }

    /** {@code host}'s data directory full for {@code durationMillis}. */
    record DiskFull(long atMillis, String host, long durationMillis) implements Fault {
        public FaultKind kind() {
            return FaultKind.DISK_FULL;
        }

        public String describe() {
            return "fill the disk of " + host + " for " + seconds(durationMillis);
        }
    }
}
