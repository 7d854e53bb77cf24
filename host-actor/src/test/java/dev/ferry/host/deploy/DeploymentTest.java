package dev.ferry.host.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.storage.nbd.NbdServer;
import dev.ferry.storage.stream.StreamingDisk;
import dev.ferry.storage.testing.FullDiskChannel;
import dev.ferry.storage.testing.Images;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.devices.virtio.blk.FileBlockStore;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A guest boots from a streamed image, reads it right, and ends on a plain local file with virtualization OFF. */
@RequiresKvm
class DeploymentTest {
    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;

    /** The reader guest's checksum: FNV-1a over the little-endian 64-bit words of the first {@code bytes}. */
    static long readerSum(Path image, long bytes) throws Exception {
        long h = 0xcbf29ce484222325L;
        try (FileChannel f = FileChannel.open(image)) {
            ByteBuffer b = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            long pos = 0;
            while (pos < bytes) {
                b.clear().limit((int) Math.min(b.capacity(), bytes - pos));
                while (b.hasRemaining()) {
                    f.read(b, pos + b.position());
                }
                b.flip();
                while (b.remaining() >= 8) {
                    h = (h ^ b.getLong()) * 0x100000001b3L;
                }
                pos += b.limit();
            }
        }
        return h;
    }

    @Test
    void bootsAtOnceFromAStreamedImageThenRunsFromTheLocalFileWithVirtualizationOff() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path image = Images.random(images.resolve("os.raw"), 48 * MIB, 7);
        try (NbdServer server = NbdServer.start(images)) {
            ConsoleOutput console = new ConsoleOutput();
            Deployment d = Deployment.start(dir.resolve("disks"), new Deployment.Spec("vm1", "reader", 64 * MIB,
                            Map.of("boot_mib", "8", "alive_ms", "100"), "os.raw", "127.0.0.1:" + server.port(), 8 * MIB),
                    StreamingDisk.Options.defaults(), console, x -> { });
            try {
                assertEquals(Virtualization.ON, d.vm().virtualization());
                String sumLine = console.awaitLine("reader read=", 30_000);
                assertTrue(sumLine != null, "no checksum line: " + console.recentLines());
                Deployment.Progress early = d.progress();
                assertEquals(Deployment.State.STREAMING, early.state(), early.toString());
                assertTrue(early.firstLineMs() >= 0 && early.copiedBytes() < early.totalBytes(), early.toString());
                assertTrue(sumLine.contains(String.format("sum=%016x", readerSum(image, 8 * MIB))), sumLine);

                Deployment.Progress end = d.whenEnded().get(60, TimeUnit.SECONDS);
                assertEquals(Deployment.State.LOCAL, end.state(), end.toString());
                assertEquals(Virtualization.OFF, d.vm().virtualization());
                assertTrue(d.vm().disk().orElseThrow().store() instanceof FileBlockStore);
                assertTrue(end.devirtMs() >= 0 && end.copyMs() > 0, end.toString());
                assertEquals(end.totalBytes(), end.copiedBytes());
                long lines = console.lineCount();
                assertTrue(console.awaitLine("reader alive seq=", 10_000) != null);
                // the guest goes on reading its disk after the switch, from the local file
                long ops = d.progress().guestIoOps();
                d.vm().uart().receive(new byte[] {'t'});
                String pass = console.awaitLine("reader throughput pass=1", 30_000);
                assertTrue(pass != null && pass.contains("errors=0"), String.valueOf(console.recentLines()));
                assertTrue(d.progress().guestIoOps() > ops && console.lineCount() > lines);
            } finally {
                d.vm().close();
            }
            assertEquals(Images.sha256(image), Images.sha256(Deployment.diskOf(dir.resolve("disks"), "vm1")));
        }
    }

    @Test
    void saysTheImageServerIsUnreachableWhileItIsGoneAndFinishesWhenItIsBack() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path image = Images.random(images.resolve("os.raw"), 32 * MIB, 9);
        NbdServer server = NbdServer.start(images);
        int port = server.port();
        ConsoleOutput console = new ConsoleOutput();
        Deployment d = Deployment.start(dir.resolve("disks"), new Deployment.Spec("vm3", "reader", 64 * MIB,
                        Map.of("boot_mib", "4", "alive_ms", "100"), "os.raw", "127.0.0.1:" + port, 4 * MIB),
                StreamingDisk.Options.defaults(), console, x -> { });
        try {
            assertTrue(console.awaitLine("reader read=", 30_000) != null, String.valueOf(console.recentLines()));
            server.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Deployment.Progress p = d.progress();
            while (!p.message().startsWith("image server unreachable: ") && System.nanoTime() < deadline) {
                Thread.sleep(50);
                p = d.progress();
            }
            assertEquals(Deployment.State.STREAMING, p.state(), p.toString());
            assertTrue(p.message().startsWith("image server unreachable: ") && p.copiedBytes() < p.totalBytes(),
                    p.toString());
            assertTrue(console.awaitLine("reader alive seq=3", 10_000) != null, "the idle guest goes on meanwhile");

            server = NbdServer.start(images, new java.net.InetSocketAddress("127.0.0.1", port));
            ((StreamingDisk) d.vm().disk().orElseThrow().store()).throttle(0);
            Deployment.Progress end = d.whenEnded().get(60, TimeUnit.SECONDS);
            assertEquals(Deployment.State.LOCAL, end.state(), end.toString());
        } finally {
            d.vm().close();
            server.close();
        }
        assertEquals(Images.sha256(image), Images.sha256(Deployment.diskOf(dir.resolve("disks"), "vm3")));
    }

    @Test
    void aLocalDiskThatFillsUpEndsTheDeploymentFailedSayingTheDiskIsFull() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Images.random(images.resolve("os.raw"), 32 * MIB, 11);
        Path disks = dir.resolve("disks");
        Path disk = Deployment.diskOf(disks, "vm4");
        try (NbdServer server = NbdServer.start(images)) {
            ConsoleOutput console = new ConsoleOutput();
            java.util.concurrent.CompletableFuture<Deployment> ended = new java.util.concurrent.CompletableFuture<>();
            Deployment d = Deployment.start(disks, new Deployment.Spec("vm4", "reader", 64 * MIB,
                            Map.of("boot_mib", "1", "alive_ms", "100"), "os.raw", "127.0.0.1:" + server.port(), 0),
                    StreamingDisk.Options.defaults(), console, vm -> { }, ended::complete,
                    p -> new FullDiskChannel(FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ,
                            StandardOpenOption.WRITE), 12 * MIB));   // room for a third of the image
            try {
                Deployment.Progress end = d.whenEnded().get(60, TimeUnit.SECONDS);
                assertEquals(Deployment.State.FAILED, end.state(), end.toString());
                assertTrue(end.message().startsWith("local disk full writing image " + disk)
                        && end.message().contains("No space left on device"), end.message());
                assertTrue(end.copiedBytes() < end.totalBytes(), end.toString());
                assertEquals(d, ended.get(10, TimeUnit.SECONDS), "the agent is told once");
                assertEquals(Virtualization.ON, d.vm().virtualization(), "the disk never went local");
            } finally {
                d.vm().close();
            }
        }
    }

    @Test
    void refusesAnImageTheServerDoesNotHaveNamingItAndTheServer() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Images.random(images.resolve("os.raw"), MIB, 1);
        try (NbdServer server = NbdServer.start(images)) {
            DeploymentException e = assertThrows(DeploymentException.class, () -> Deployment.start(dir.resolve("disks"),
                    new Deployment.Spec("vm2", "reader", 64 * MIB, Map.of(), "nosuch.raw", "127.0.0.1:" + server.port(), 0),
                    StreamingDisk.Options.defaults(), new ConsoleOutput(), x -> { }));
            assertTrue(e.getMessage().contains("nosuch.raw") && e.getMessage().contains("127.0.0.1:" + server.port()),
                    e.getMessage());
        }
    }
}
