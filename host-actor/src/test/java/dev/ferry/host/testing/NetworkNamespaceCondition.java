package dev.ferry.host.testing;

import dev.ferry.host.local.NetworkNamespace;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** The check behind {@link RequiresNetworkNamespaces}, before each test (and so before its own set-up). */
public final class NetworkNamespaceCondition implements BeforeEachCallback {
    /** Set (to anything) on machines without network namespaces, to skip these tests instead of failing them. */
    public static final String ALLOW_NONE = "FERRY_ALLOW_NO_NETNS";

    @Override
    public void beforeEach(ExtensionContext context) {
        if (NetworkNamespace.isAvailable()) {
            return;
        }
        String why = "no network namespaces on this machine: " + NetworkNamespace.unavailabilityCause();
        if (System.getenv(ALLOW_NONE) != null) {
            Assumptions.abort(why);
        }
        Assertions.fail(why + " (set " + ALLOW_NONE + "=1 to skip this test instead)");
    }
}
