package dev.ferry.storage.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * An independent program a test runs (qemu-nbd, nbdinfo, nbdcopy). A missing one fails the test, naming the Debian
 * package that brings it; only with {@code FERRY_ALLOW_MISSING_TOOLS} set is the test skipped instead.
 */
public final class ExternalTool {
    public static final String ALLOW_MISSING = "FERRY_ALLOW_MISSING_TOOLS";

    private ExternalTool() {}

    /** The tool's path, or the test fails (or is skipped, when allowed) saying what to install. */
    public static Path require(String tool, String debianPackage) {
        Optional<Path> found = find(tool);
        if (found.isPresent()) {
            return found.get();
        }
        String message = tool + " is not on the PATH: install the Debian package " + debianPackage
                + " (.ci/run does), or set " + ALLOW_MISSING + "=1 to skip the tests that need it";
        String allow = System.getenv(ALLOW_MISSING);
        if (allow != null && !allow.isEmpty()) {
            Assumptions.abort(message);
        }
        return fail(message);
    }

    static Optional<Path> find(String tool) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, tool);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        for (String dir : new String[] {"/usr/bin", "/usr/sbin", "/usr/local/bin"}) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
