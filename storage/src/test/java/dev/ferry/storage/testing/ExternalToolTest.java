package dev.ferry.storage.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class ExternalToolTest {
    @Test
    void aMissingToolFailsTheTestNamingItsPackageUnlessSkippingIsAllowed() {
        String allow = System.getenv(ExternalTool.ALLOW_MISSING);
        Class<? extends Throwable> expected = allow != null && !allow.isEmpty()
                ? TestAbortedException.class : AssertionFailedError.class;
        Throwable t = assertThrows(expected, () -> ExternalTool.require("ferry-no-such-tool", "ferry-no-such-package"));
        assertTrue(t.getMessage().contains("ferry-no-such-tool is not on the PATH: install the Debian package "
                + "ferry-no-such-package"), t.getMessage());
    }
}
