package dev.ferry.storage.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.storage.nbd.NbdServer;
import dev.ferry.storage.testing.Images;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A streaming disk whose process is killed with SIGKILL mid-copy resumes to exactly the right image. */
class StreamingDiskCrashTest {
    private static final long SIZE = 256L << 20;
    private static final int BLOCK = 1 << 20;
    @TempDir
    Path dir;

    @Test
    void afterKill9MidCopyTheResumedImageIsTheSourceWithTheFlushedWritesApplied() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path src = Images.random(images.resolve("big.raw"), SIZE, 5);
        Path local = dir.resolve("local.img");
        try (NbdServer server = NbdServer.start(images)) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp",
                    System.getProperty("java.class.path"), StreamingDiskChild.class.getName(), local.toString(),
                    Integer.toString(server.port()), "big.raw", Long.toString(48L << 20)))
                    .redirectError(dir.resolve("child.err").toFile()).start();
            long localAtKill;
            try {
                localAtKill = awaitMidCopy(child);
                child.destroyForcibly();   // SIGKILL: no shutdown hook, no close, no last persist
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child died");
                assertEquals(137, child.exitValue(), "killed by SIGKILL");
            } finally {
                if (child.isAlive()) {
                    child.destroyForcibly();
                    child.waitFor(30, TimeUnit.SECONDS);
                }
            }

            long localAtOpen = Bitmaps.storedLocal(local, BLOCK, SIZE, "nbd://127.0.0.1:" + server.port() + "/big.raw");
            try (StreamingDisk d = StreamingDisk.open(local, NbdRemoteImage.connect("127.0.0.1", server.port(),
                    "big.raw"), StreamingDisk.Options.defaults())) {
                // the child may have persisted a few more blocks between its last report and the kill
                assertTrue(localAtOpen > 0 && localAtOpen < SIZE / BLOCK, "the bitmap kept " + localAtOpen
                        + " blocks of " + SIZE / BLOCK + " (the child reported " + localAtKill + " before the kill)");
                long t0 = System.nanoTime();
                d.whenComplete().get(60, TimeUnit.SECONDS);
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("StreamingDisk idle copy after resume: %d MiB in %.3f s = %.0f MiB/s%n",
                        d.status().bytesCopied() >> 20, seconds, (d.status().bytesCopied() >> 20) / seconds);
                assertEquals((SIZE / BLOCK - localAtOpen) * BLOCK, d.status().bytesCopied(),
                        "only the blocks the bitmap did not mark were copied again");
            }
        }
        byte[] expected = GuestWrites.expected(Files.readAllBytes(src), GuestWrites.forCapacity(SIZE, BLOCK));
        assertEquals(Images.sha256(expected), Images.sha256(local));
    }

    /** Waits until the child has flushed its writes and copied a good part but not all; returns its local count. */
    private long awaitMidCopy(Process child) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        boolean flushed = false;
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
            if (line.equals("FLUSHED")) {
                flushed = true;
            } else if (flushed && line.startsWith("LOCAL ")) {
                long n = Long.parseLong(line.substring(6));
                if (n >= 40) {
                    assertTrue(n < SIZE / BLOCK, "still mid-copy at the kill: " + n);
                    return n;
                }
            }
        }
        throw new AssertionError("the child did not get mid-copy (flushed=" + flushed + "): "
                + Files.readString(dir.resolve("child.err")));
    }
}
