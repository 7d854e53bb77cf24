package dev.ferry.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.host.local.NetworkNamespace;
import dev.ferry.host.testing.RequiresNetworkNamespaces;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deploy bench's shaped link: an image read the bench's way across a 400 Mbit/s link arrives whole, its data at
 * near that rate and not above; afterwards the server's JVM, the namespace and the pair are gone. Needs root and
 * iproute2: without them the test fails with the reason, or is skipped when FERRY_ALLOW_NO_NETNS is set.
 */
@RequiresNetworkNamespaces
class ShapedImageServerIT {
    private static final long RATE = 400_000_000;

    @TempDir
    Path dir;

    @Test
    void anImageCrossesTheLinkWholeNearItsRateAndNothingIsLeftAfterClose() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path image = images.resolve("bench.raw");
        DeployBench.makeImage(image, 32L << 20, 100);
        Path copy = dir.resolve("copy.raw");
        ShapedImageServer server = ShapedImageServer.start(images, dir, new LinkRate(RATE));
        long pid = server.serverPid();
        NetworkNamespace ns = server.namespace();
        try {
            assertEquals(ns.insideAddress(), server.host());
            DeployBench.NbdPass pass = DeployBench.nbdRead(server, "bench.raw", copy);
            assertEquals(-1, Files.mismatch(image, copy), "the copy differs from the image");
            double rate = pass.wireBytes() * 8 / (pass.nanos() / 1e9);
            System.out.printf("%d bytes in %.0f ms: %.0f Mbit/s%n", pass.wireBytes(), pass.nanos() / 1e6, rate / 1e6);
            assertEquals(32L << 20, pass.wireBytes());
            assertTrue(rate <= 1.05 * RATE, "faster than the link: " + rate / 1e6 + " Mbit/s");
            assertTrue(rate >= 0.5 * RATE, "far below the link: " + rate / 1e6 + " Mbit/s");
            assertTrue(server.serverCpuNanos() > 0, "no CPU time for the server's JVM");
        } finally {
            server.close();
        }
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the server's JVM still runs");
        assertFalse(ns.exists(), "namespace " + ns.name() + " or its pair is left");
    }
}
