package dev.ferry.capture.checkpoint;

/**
 * The version of a checkpoint file: {@code major} changes break readers, {@code minor} ones add to the format.
 * A reader refuses another major and a newer minor than it knows (Firecracker's rule); new optional state goes
 * into new, skippable sections rather than a new version.
 */
public record FormatVersion(int major, int minor) {
    /** The version this build writes, and the newest it reads. */
    public static final FormatVersion CURRENT = new FormatVersion(1, 0);

    public FormatVersion {
        if (major < 0 || major > 0xFFFF || minor < 0 || minor > 0xFFFF) {
            throw new IllegalArgumentException("version " + major + "." + minor + " does not fit two 16-bit numbers");
        }
    }

    /** Whether this build reads files of this version. */
    public boolean isReadable() {
        return major == CURRENT.major && minor <= CURRENT.minor;
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
