package dev.ferry.host;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.protocol.v1.LaunchReply;
import dev.ferry.protocol.v1.StopInstance;
import dev.ferry.protocol.v1.StopReply;
import dev.ferry.vmm.testing.RequiresKvm;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host whose data disk fills up (a small tmpfs, filled to the last byte): its guest keeps running, it takes no new
 * instance and says why, a journal write waits for room instead of killing the process (LevelDB's log is
 * memory-mapped: a write into a full tmpfs is SIGBUS), and a host started on a full disk refuses with a clear error.
 */
@RequiresKvm
class DataDiskFullIT {
    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;
    private LocalCluster cluster;
    private Path mounted;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (mounted != null) {
            run("umount", mounted.toString());
        }
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    private static void fill(Path dir) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(dir.resolve("filler"))) {
            while (true) {
                out.write(chunk);
                out.flush();
            }
        } catch (IOException full) {
            // no room left
        }
    }

    @Test
    void aFullDataDiskRefusesNewInstancesAndHoldsJournalWritesUntilThereIsRoomAgain() throws Exception {
        Path data = dir.resolve("h1");
        Files.createDirectories(data);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", data.toString()) == 0,
                "mounting a tmpfs as the host's data disk needs root");
        mounted = data;
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 2L << 30);
        HostClient client = cluster.client();
        ActorRef<GeneratedMessage> h1 = cluster.agents(1).get("h1");
        assertTrue(client.launch(h1, "a", "heartbeat", 64 * MIB, Map.of("interval_ms", "50")).getOk());

        fill(data);
        LaunchReply refused = client.launch(h1, "b", "heartbeat", 64 * MIB, Map.of());
        assertFalse(refused.getOk());
        assertTrue(refused.getError().contains("takes no new instance: the data disk of " + data + " is full"),
                refused.getError());
        long before = beats(client, h1);
        Thread.sleep(500);
        assertTrue(beats(client, h1) > before, "the guest keeps running on a host whose disk is full");

        // Stopping the guest is recorded in the journal: the write waits for room, the host stays up.
        ActorRefResolver resolver = ActorRefResolver.get(client.system());
        CompletableFuture<GeneratedMessage> stopped = AskPattern.<GeneratedMessage, GeneratedMessage>ask(h1,
                r -> StopInstance.newBuilder().setInstanceId("a").setReplyTo(resolver.toSerializationFormat(r)).build(),
                Duration.ofSeconds(60), client.system().scheduler()).toCompletableFuture();
        Thread.sleep(3000);
        assertFalse(stopped.isDone(), "the stop is not answered before it is recorded");
        assertTrue(cluster.host("h1").isAlive(), "the host survives a journal write on a full disk");
        Files.delete(data.resolve("filler"));
        StopReply reply = (StopReply) stopped.get(20, TimeUnit.SECONDS);
        assertTrue(reply.getOk(), reply.toString());
        assertTrue(Files.readString(cluster.host("h1").log()).contains("journal writes wait: the data disk"),
                cluster.host("h1").tail());
        assertTrue(client.list(h1).getInstancesList().stream().noneMatch(i -> i.getState().equals("RUNNING")));

        // A host started on a full disk cannot open its journal: it says so and exits.
        cluster.host("h1").close();
        fill(data);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cluster.startHost("h1", 2L << 30));
        assertTrue(e.getMessage().contains("ferry: host h1 cannot open its journal: the data disk of"), e.getMessage());
    }

    private static long beats(HostClient client, ActorRef<GeneratedMessage> agent) throws Exception {
        return client.console(agent, "a", 1000).getLinesList().stream().filter(l -> l.contains("heartbeat seq="))
                .count();
    }
}
