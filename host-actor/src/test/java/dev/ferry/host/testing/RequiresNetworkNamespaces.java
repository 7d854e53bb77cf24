package dev.ferry.host.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The test needs network namespaces of its own (root and iproute2). Where the machine has none it fails with the
 * reason, unless FERRY_ALLOW_NO_NETNS is set: then it is skipped with that reason.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(NetworkNamespaceCondition.class)
public @interface RequiresNetworkNamespaces {}
