package dev.ferry.orchestrator.chaos;

/** What the runner asks of the orchestrator, as an operator would. */
public sealed interface Operation extends Step {
    /** The operation's name in reports: launch, migrate, checkpoint, restore, deploy. */
    String kind();

    String instance();

    /** Launches {@code instance} (placed by the orchestrator). */
    record Launch(long atMillis, String instance, String guest) implements Operation {
        public String kind() {
            return "launch";
        }

        public String describe() {
            return "launch " + instance + " (" + guest + ")";
        }
    }

    /** Live-migrates {@code instance} to {@code toHost} (another host if it already runs there). */
    record Migrate(long atMillis, String instance, String toHost) implements Operation {
        public String kind() {
            return "migrate";
        }

        public String describe() {
            return "migrate " + instance + " to " + toHost;
        }
    }

    /** A full checkpoint of {@code instance} where it runs. */
    record Checkpoint(long atMillis, String instance) implements Operation {
        public String kind() {
            return "checkpoint";
        }

        public String describe() {
            return "checkpoint " + instance;
        }
    }

    /** Restores {@code instance} from its newest checkpoint on {@code host} (empty: in place, or placed if lost). */
    record Restore(long atMillis, String instance, String host) implements Operation {
        public String kind() {
            return "restore";
        }

        public String describe() {
            return "restore " + instance + (host.isEmpty() ? " in place" : " on " + host);
        }
    }

    /** Deploys a new disk guest {@code instance} on {@code host}, its disk streamed from the storage node. */
    record Deploy(long atMillis, String instance, String host) implements Operation {
        public String kind() {
            return "deploy";
        }

        public String describe() {
            return "deploy " + instance + " (disk guest, streamed image) on " + host;
        }
    }
}
