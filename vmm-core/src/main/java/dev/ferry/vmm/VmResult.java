package dev.ferry.vmm;

/** How a VM ended. */
public sealed interface VmResult {
    /** The guest asked to stop through the platform EXIT register. */
    record Exited(int code) implements VmResult {}

    /** The host stopped it. */
    record Stopped() implements VmResult {}

    /** It could not continue: names the exit reason or error and carries a register dump. */
    record Failed(String reason, String registerDump) implements VmResult {}

    default boolean succeeded() {
        return this instanceof Exited e ? e.code() == 0 : this instanceof Stopped;
    }

    default String describe() {
        if (this instanceof Exited e) {
            return "guest exited with code " + e.code();
        }
        if (this instanceof Failed f) {
            return "guest failed: " + f.reason();
        }
        return "stopped by the host";
    }
}
