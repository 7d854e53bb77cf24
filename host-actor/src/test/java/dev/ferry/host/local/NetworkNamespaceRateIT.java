package dev.ferry.host.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ferry.host.testing.RequiresNetworkNamespaces;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A namespace whose pair is limited to 400 Mbit/s: a TCP transfer each way across the pair runs near that rate and
 * not above it (unshaped, a veth pair moves several Gbit/s here), and nothing of it is left after {@link
 * NetworkNamespace#close()}. The process inside is {@code bash} with its {@code /dev/tcp}. Needs root and iproute2:
 * without them the test fails with the reason, or is skipped when FERRY_ALLOW_NO_NETNS is set.
 */
@RequiresNetworkNamespaces
class NetworkNamespaceRateIT {
    private static final long RATE = 400_000_000;
    private static final long BYTES = 25L << 20;

    @Test
    void eachDirectionOfTheLimitedPairRunsNearItsRateAndNothingIsLeftAfterClose() throws Exception {
        NetworkNamespace ns = NetworkNamespace.create();
        try {
            ns.limitRate(RATE);
            String qdiscs = run(List.of("tc", "-n", ns.name(), "qdisc", "show"));
            assertTrue(qdiscs.contains("tbf") && qdiscs.contains("rate 400Mbit"), qdiscs);

            double out = bitsPerSecond(fromInside(ns));
            double in = bitsPerSecond(toInside(ns));
            System.out.printf("inside to outside %.0f Mbit/s, outside to inside %.0f Mbit/s%n", out / 1e6, in / 1e6);
            for (double rate : List.of(out, in)) {
                assertTrue(rate <= 1.05 * RATE, "faster than the limit: " + rate / 1e6 + " Mbit/s");
                assertTrue(rate >= 0.5 * RATE, "far below the limit: " + rate / 1e6 + " Mbit/s");
            }
        } finally {
            ns.close();
        }
        assertFalse(ns.exists(), "namespace " + ns.name() + " or its pair is left");
        assertFalse(run(List.of("ip", "netns", "list")).contains(ns.name()));
    }

    /** Nanoseconds for {@link #BYTES} sent from inside, timed where they arrive (from the first byte to the end). */
    private static long fromInside(NetworkNamespace ns) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(ns.outsideAddress()))) {
            Process sender = inside(ns, "head -c " + BYTES + " /dev/zero > /dev/tcp/" + ns.outsideAddress() + "/"
                    + listener.getLocalPort());
            try (Socket s = listener.accept(); InputStream in = s.getInputStream()) {
                byte[] b = new byte[1 << 20];
                long total = in.readNBytes(b, 0, 1);
                long t0 = System.nanoTime();
                for (int n; (n = in.read(b)) > 0; ) {
                    total += n;
                }
                long nanos = System.nanoTime() - t0;
                assertEquals(BYTES, total);
                assertEquals(0, reap(sender));
                return nanos;
            } finally {
                sender.destroyForcibly().waitFor();
            }
        }
    }

    /** Nanoseconds for {@link #BYTES} sent from here to a reader inside, until the reader has them all. */
    private static long toInside(NetworkNamespace ns) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getByName(ns.outsideAddress()))) {
            Process reader = inside(ns, "cat < /dev/tcp/" + ns.outsideAddress() + "/" + listener.getLocalPort()
                    + " | wc -c");
            try (Socket s = listener.accept(); OutputStream out = s.getOutputStream()) {
                byte[] b = new byte[1 << 20];
                long t0 = System.nanoTime();
                for (long sent = 0; sent < BYTES; sent += b.length) {
                    out.write(b);
                }
                s.shutdownOutput();
                String got = new String(reader.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                long nanos = System.nanoTime() - t0;
                assertEquals(Long.toString(BYTES), got);
                assertEquals(0, reap(reader));
                return nanos;
            } finally {
                reader.destroyForcibly().waitFor();
            }
        }
    }

    private static double bitsPerSecond(long nanos) {
        return BYTES * 8 / (nanos / 1e9);
    }

    private static Process inside(NetworkNamespace ns, String script) throws IOException {
        List<String> command = new ArrayList<>(ns.commandPrefix());
        command.addAll(List.of("bash", "-c", script));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static int reap(Process p) throws InterruptedException {
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            fail("`" + p.info().commandLine().orElse("?") + "` did not end within 60 s");
        }
        return p.exitValue();
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        reap(p);
        return out;
    }
}
