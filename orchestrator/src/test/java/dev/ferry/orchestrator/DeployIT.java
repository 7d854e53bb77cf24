package dev.ferry.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.cli.FerryCli;
import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.host.storage.StorageNode;
import dev.ferry.protocol.v1.ImageList;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.LaunchReply;
import dev.ferry.vmm.testing.RequiresKvm;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming deployment through the whole stack: a host, a storage node and an orchestrator in their own JVMs, and
 * {@code ferry deploy} in this one. The guest prints before its image is copied, reads the right bytes, and ends with
 * virtualization OFF on a local disk identical to the image.
 */
@RequiresKvm
class DeployIT {
    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;
    private LocalCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private record Cli(int exitCode, String out, String err) {}

    private Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = FerryCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    /** An image of pseudo-random bytes from {@code seed}. */
    private static Path image(Path file, long size, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        ByteBuffer b = ByteBuffer.allocate((int) MIB).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel f = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long done = 0; done < size; done += MIB) {
                b.clear();
                while (b.hasRemaining()) {
                    b.putLong(r.nextLong());
                }
                b.flip();
                while (b.hasRemaining()) {
                    f.write(b);
                }
            }
        }
        return file;
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            in.transferTo(new OutputStream() {
                @Override
                public void write(int b) {
                    md.update((byte) b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    md.update(b, off, len);
                }
            });
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The reader guest's checksum of the first {@code bytes}: FNV-1a over little-endian 64-bit words. */
    private static long readerSum(Path image, long bytes) throws Exception {
        long h = 0xcbf29ce484222325L;
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(image), 0, (int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (b.remaining() >= 8) {
            h = (h ^ b.getLong()) * 0x100000001b3L;
        }
        return h;
    }

    private static Optional<InstanceInfo> info(HostClient c, ActorRef<GeneratedMessage> agent, String id) {
        try {
            return c.list(agent).getInstancesList().stream().filter(i -> i.getInstanceId().equals(id)).findFirst();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private static Optional<ActorRef<GeneratedMessage>> agent(HostClient c, String host) {
        try {
            return Optional.ofNullable(c.awaitHosts(1, Duration.ofSeconds(10)).get(host));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private static List<String> console(HostClient c, ActorRef<GeneratedMessage> agent, String id) {
        try {
            return c.console(agent, id, 1000).getLinesList();
        } catch (Exception e) {
            return List.of();
        }
    }

    @Test
    void deploysFromAStorageNodeBootingBeforeTheCopyAndEndsOnAnIdenticalLocalDiskWithVirtualizationOff()
            throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path source = image(images.resolve("os.raw"), 96 * MIB, 42);
        Files.writeString(images.resolve("other.img"), "x".repeat(4096));
        cluster = new LocalCluster(dir);
        cluster.startHost("h0", 256 * MIB);   // the seed, so that h1 can be killed and come back into the same cluster
        cluster.startHost("h1", 2L << 30);
        cluster.startNode(StorageNode.class.getName(), StorageNode.UP_LINE, "s1", List.of("--images", images.toString()));
        cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, "orch");
        ActorRef<GeneratedMessage> h1 = cluster.agents(2).get("h1");
        HostClient client = cluster.client();
        new OrchestratorClient(client).gateway(Duration.ofSeconds(60));
        String seeds = cluster.seed();

        // Refusals first: an image the storage node does not serve, from the CLI and at the host agent.
        Cli missing = cli("deploy", "--seeds", seeds, "--image", "nosuch.raw", "--memory", "128M", "--id", "nope");
        assertEquals(FerryCli.USAGE, missing.exitCode(), missing.out() + missing.err());
        assertTrue(missing.err().contains("image 'nosuch.raw' not found on storage node s1")
                && missing.err().contains("os.raw (96 MiB)") && missing.err().contains("other.img"), missing.err());
        ImageList list = client.images(Duration.ofSeconds(30));
        String server = list.getNbdHost() + ":" + list.getNbdPort();
        LaunchReply refused = client.deploy(h1, "nope", "reader", 128 * MIB, Map.of(), "nosuch.raw", server, 0);
        assertFalse(refused.getOk());
        assertTrue(refused.getError().contains("nosuch.raw") && refused.getError().contains(server), refused.getError());

        // The copy is throttled (guest reads are not) so that booting visibly overtakes it.
        CompletableFuture<Cli> deploy = CompletableFuture.supplyAsync(() -> cli("deploy", "--seeds", seeds, "--image",
                "os.raw", "--memory", "128M", "--host", "h1", "--id", "web", "--copy-rate", "16M",
                "--arg", "boot_mib=16", "--arg", "alive_ms=200"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        InstanceInfo atFirstLine = null;
        while (System.nanoTime() < deadline && !deploy.isDone()) {
            if (console(client, h1, "web").stream().anyMatch(l -> l.contains("reader up"))) {
                atFirstLine = info(client, h1, "web").orElse(null);
                break;
            }
            Thread.sleep(50);
        }
        assertNotNull(atFirstLine, "no first console line: " + deploy.getNow(null));
        assertEquals("STREAMING", atFirstLine.getDeployState(), atFirstLine.toString());
        assertTrue(atFirstLine.getCopiedBytes() < atFirstLine.getTotalBytes(), atFirstLine.toString());
        assertEquals(96 * MIB, atFirstLine.getTotalBytes());

        Cli done = deploy.get(180, TimeUnit.SECONDS);
        System.out.println(done.out().replace('\r', '\n'));
        assertEquals(FerryCli.OK, done.exitCode(), done.out() + done.err());
        assertTrue(done.out().contains("deployed web on h1: first console line after"), done.out());
        InstanceInfo end = info(client, h1, "web").orElseThrow();
        assertEquals("LOCAL", end.getDeployState(), end.toString());
        assertEquals("RUNNING", end.getState());
        assertEquals(end.getTotalBytes(), end.getCopiedBytes());
        assertTrue(end.getDevirtMs() >= 0 && end.getCopyMs() >= end.getFirstLineMs(), end.toString());

        String sumLine = console(client, h1, "web").stream().filter(l -> l.contains("reader read=")).findFirst()
                .orElseThrow();
        assertTrue(sumLine.contains(String.format("read=%d bytes sum=%016x", 16 * MIB, readerSum(source, 16 * MIB)))
                && sumLine.contains("errors=0"), sumLine);
        int alive = (int) console(client, h1, "web").stream().filter(l -> l.contains("reader alive")).count();
        HostTruth.await("the guest goes on after virtualization OFF", Duration.ofSeconds(30),
                () -> console(client, h1, "web").stream().filter(l -> l.contains("reader alive")).count() > alive + 2);

        Path disk = dir.resolve("h1").resolve("disks").resolve("web.img");
        assertTrue(Files.exists(disk.resolveSibling("web.img.blocks")));
        assertEquals(sha256(source), sha256(disk));

        Cli status = cli("status", "--seeds", seeds);
        System.out.println(status.out());
        assertEquals(FerryCli.OK, status.exitCode(), status.err());
        assertTrue(status.out().contains("DEPLOYMENT") && status.out().matches("(?s).*web\\s+h1\\s+os\\.raw\\s+LOCAL.*"),
                status.out());

        // A host killed mid-copy: after its restart the instance is lost, the deployment interrupted, and the half-copied
        // disk and its bitmap are still there, reported with what of it is local. A restore on that host (from a
        // checkpoint taken while it streamed) reopens the disk and resumes the copy from the bitmap.
        OrchestratorClient orch = new OrchestratorClient(client);
        assertTrue(orch.deploy("slow", "reader", 128 * MIB, Map.of("boot_mib", "4"), "h1", "os.raw", server, 4 * MIB)
                .getOk());
        HostTruth.await("slow boots", Duration.ofSeconds(60),
                () -> console(client, h1, "slow").stream().anyMatch(l -> l.contains("reader read=")));
        var checkpoint = orch.checkpoint("slow");
        assertTrue(checkpoint.getOk(), checkpoint.getError());
        HostTruth.await("slow has a part of its disk local", Duration.ofSeconds(60),
                () -> info(client, h1, "slow").map(i -> i.getCopiedBytes() >= 24 * MIB).orElse(false));
        InstanceInfo before = info(client, h1, "slow").orElseThrow();
        assertEquals("STREAMING", before.getDeployState(), before.toString());
        cluster.host("h1").kill();
        cluster.startHost("h1", 2L << 30);
        HostTruth.await("the restarted h1 reports slow lost", Duration.ofSeconds(120),
                () -> agent(client, "h1").flatMap(a -> info(client, a, "slow")).map(i -> i.getState().equals("LOST"))
                        .orElse(false));
        ActorRef<GeneratedMessage> h1again = agent(client, "h1").orElseThrow();
        InstanceInfo after = info(client, h1again, "slow").orElseThrow();
        System.out.println("after the restart: " + after.getDeployMessage());
        assertEquals("INTERRUPTED", after.getDeployState(), after.toString());
        assertTrue(after.getCopiedBytes() >= 16 * MIB && after.getCopiedBytes() < 96 * MIB, after.toString());
        assertTrue(after.getDeployMessage().contains("slow.img") && after.getDeployMessage().contains("of 96 MiB local")
                && after.getDeployMessage().contains("resumes the copy"), after.getDeployMessage());
        Path half = dir.resolve("h1").resolve("disks").resolve("slow.img");
        assertTrue(Files.size(half) == 96 * MIB && Files.exists(half.resolveSibling("slow.img.blocks")));

        HostTruth.await("the registry reports slow lost", Duration.ofSeconds(90),
                () -> HostTruth.quietly(() -> orch.instance("slow").getState().equals("LOST")));
        var elsewhere = orch.restore("slow", null, "h0");
        assertFalse(elsewhere.getOk(), "h0 would read the missing blocks of h1's partial disk as zeros");
        assertTrue(elsewhere.getError().contains("partial copy") && elsewhere.getError().contains("slow.img"),
                elsewhere.getError());
        var restored = orch.restore("slow", null, "h1");
        assertTrue(restored.getOk(), restored.getError());
        InstanceInfo resumed = info(client, h1again, "slow").orElseThrow();
        assertEquals("RUNNING", resumed.getState(), resumed.toString());
        assertTrue(resumed.getDeployState().equals("STREAMING") || resumed.getDeployState().equals("LOCAL")
                || resumed.getDeployState().equals("SWITCHING"), resumed.toString());
        HostTruth.await("the resumed copy ends with the disk local", Duration.ofSeconds(120),
                () -> info(client, h1again, "slow").map(i -> i.getDeployState().equals("LOCAL")).orElse(false));
        assertEquals(sha256(source), sha256(half), "the guest only reads: the resumed disk is the image");
        InstanceInfo local = info(client, h1again, "slow").orElseThrow();
        assertEquals(96 * MIB, local.getCopiedBytes());
    }
}
