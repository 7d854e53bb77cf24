package dev.ferry.host.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.HostProcess;
import dev.ferry.protocol.v1.ImageExport;
import dev.ferry.protocol.v1.ImageList;
import dev.ferry.protocol.v1.ListImages;
import dev.ferry.storage.nbd.NbdClient;
import dev.ferry.storage.testing.Images;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A storage node in its own JVM joins the cluster, is found through the Receptionist, and serves its images. */
class StorageNodeIT {
    @TempDir
    Path dir;

    @Test
    @SuppressWarnings("try")   // HostProcess.close() may be interrupted: a test may be too
    void aStorageNodeIsFoundInTheClusterAndServesItsImagesOverNbd() throws Exception {
        Path data = dir.resolve("s1");
        Path images = Files.createDirectories(data.resolve("images"));
        Path disk = Images.random(images.resolve("disk.raw"), 8L << 20, 4);
        Images.random(images.resolve("small.img"), 4096, 5);
        int seedPort = Images.freePort();
        String seed = "127.0.0.1:" + seedPort;
        try (HostProcess node = new HostProcess(StorageNode.class.getName(), StorageNode.UP_LINE, "s1", data, seedPort,
                seed, 1L << 30, List.of()).start();
             HostClient client = HostClient.join(List.of(seed), dir.resolve("client"))) {
            Matcher up = Pattern.compile("ferry storage s1 up at pekko://ferry@127\\.0\\.0\\.1:" + seedPort
                    + " nbd 127\\.0\\.0\\.1:(\\d+)").matcher(Files.readString(node.log()));
            assertTrue(up.find(), node.tail());
            int nbdPort = Integer.parseInt(up.group(1));

            ImageList list = listFromAStorageNode(client);
            assertEquals("s1", list.getNode());
            assertEquals("127.0.0.1", list.getNbdHost());
            assertEquals(nbdPort, list.getNbdPort());
            assertEquals(Map.of("disk.raw", 8L << 20, "small.img", 4096L), list.getExportsList().stream()
                    .collect(Collectors.toMap(ImageExport::getName, ImageExport::getSizeBytes)));

            try (NbdClient nbd = NbdClient.connect(list.getNbdHost(), list.getNbdPort(), "disk.raw")) {
                ByteBuffer all = ByteBuffer.allocate((int) nbd.size());
                nbd.read(0, all);
                assertEquals(Images.sha256(disk), Images.sha256(all.array()));
            }
        }
    }

    private static ImageList listFromAStorageNode(HostClient client) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        ActorRefResolver resolver = ActorRefResolver.get(client.system());
        while (true) {
            Receptionist.Listing listing = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
                    client.system().receptionist(), r -> Receptionist.find(StorageService.SERVICE, r),
                    Duration.ofSeconds(10), client.system().scheduler()).toCompletableFuture().get();
            Set<ActorRef<GeneratedMessage>> found = listing.getServiceInstances(StorageService.SERVICE);
            if (!found.isEmpty()) {
                GeneratedMessage reply = AskPattern.<GeneratedMessage, GeneratedMessage>ask(found.iterator().next(),
                        r -> ListImages.newBuilder().setReplyTo(resolver.toSerializationFormat(r)).build(),
                        Duration.ofSeconds(10), client.system().scheduler()).toCompletableFuture().get();
                return (ImageList) reply;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no storage node registered under 'ferry-storage' within 60 s");
            }
            Thread.sleep(200);
        }
    }
}
