package dev.ferry.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.protocol.ProtocolVersions;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.MigrateInstance;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationOffer;
import dev.ferry.protocol.v1.MigrationReject;
import dev.ferry.protocol.v1.ProtocolVersion;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Live migration between host agents in separate JVMs on 127.0.0.1 (one cluster shared by these tests). */
@RequiresKvm
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MigrationIT {
    private static final long GIB = 1L << 30;

    @TempDir
    static Path dir;
    private LocalCluster cluster;
    private HostClient c;
    private Map<String, ActorRef<GeneratedMessage>> agents;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 4 * GIB);
        cluster.startHost("h2", 4 * GIB);
        cluster.startHost("small", 128L << 20);
        cluster.startHost("bad", 4 * GIB, "-Dferry.fault.corrupt-batch=0");
        c = cluster.client();
        agents = cluster.agents(4);
    }

    @AfterAll
    void stopCluster() throws Exception {
        cluster.close();
    }

    static List<Guests.Beat> beats(HostClient c, ActorRef<GeneratedMessage> agent, String id) throws Exception {
        return Guests.beats(c.console(agent, id, 10_000).getLinesList());
    }

    static InstanceInfo instance(HostClient c, ActorRef<GeneratedMessage> agent, String id) throws Exception {
        return c.list(agent).getInstancesList().stream().filter(i -> i.getInstanceId().equals(id)).findFirst().orElse(null);
    }

    static MigrateInstance.Builder options() {
        return MigrateInstance.newBuilder().setDowntimeLimitMicros(50_000).setVerifyMemory(true);
    }

    @Test
    void migratesARunningHeartbeatWhichKeepsCountingWithTheSameMemory() throws Exception {
        assertTrue(c.launch(agents.get("h1"), "hb", "heartbeat", 256L << 20, Map.of("interval_ms", "20")).getOk());
        Thread.sleep(500);
        MigrationDone done = c.migrate(agents.get("h1"), agents.get("h2"), "hb", options(), p -> { }, Duration.ofSeconds(60));
        assertTrue(done.getOk(), done.getError());
        assertTrue(done.getMemoryChecksum() != 0, "RAM checksums compared at switchover");
        assertTrue(beats(c, agents.get("h1"), "hb").isEmpty(), "the source no longer runs it");
        Thread.sleep(300);
        List<Guests.Beat> after = beats(c, agents.get("h2"), "hb");
        assertFalse(after.isEmpty(), "beats on the destination");
        assertEquals("MIGRATED_AWAY", instance(c, agents.get("h1"), "hb").getState());
        InstanceInfo moved = instance(c, agents.get("h2"), "hb");
        assertEquals("RUNNING", moved.getState());
        assertEquals(2, moved.getEpoch());
        assertTrue(after.get(0).seq() > 10, "the count continued on the destination: " + after.get(0));
        for (int i = 1; i < after.size(); i++) {
            assertEquals(after.get(i - 1).seq() + 1, after.get(i).seq());
        }
    }

    @Test
    void migratesADirtierWithDowntimeWithinBound() throws Exception {
        assertTrue(c.launch(agents.get("h1"), "dirty", "dirtier", 256L << 20,
                Map.of("workset", "64", "rate", "5000", "mode", "word", "report_ms", "200")).getOk());
        Thread.sleep(1500);
        MigrationDone done = c.migrate(agents.get("h1"), agents.get("h2"), "dirty",
                MigrateInstance.newBuilder().setDowntimeLimitMicros(50_000), p -> { }, Duration.ofSeconds(60));
        assertTrue(done.getOk(), done.getError());
        System.out.printf("dirtier 64 MiB at 5000 pages/s: total %.1f ms, downtime %.2f ms, %d rounds, %.2f Gbit/s%n",
                done.getTotalMicros() / 1e3, done.getDowntimeMicros() / 1e3, done.getRounds(), done.getGbps());
        assertTrue(done.getDowntimeMicros() > 0 && done.getDowntimeMicros() < 500_000,
                "downtime " + done.getDowntimeMicros() + " us");
        Thread.sleep(700);
        List<String> lines = c.console(agents.get("h2"), "dirty", 50).getLinesList();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("dirtier pages_per_s=")), "the dirtier reports on: " + lines);
    }

    @Test
    void refusesBeforeSendingAnyPageWhenTheDestinationLacksMemory() throws Exception {
        assertTrue(c.launch(agents.get("h1"), "big", "heartbeat", 256L << 20, Map.of()).getOk());
        MigrationDone done = c.migrate(agents.get("h1"), agents.get("small"), "big", options(), p -> { },
                Duration.ofSeconds(60));
        assertFalse(done.getOk());
        assertTrue(done.getError().contains("not enough memory on small"), done.getError());
        assertEquals(0, done.getBytes());
        assertEquals("RUNNING", instance(c, agents.get("h1"), "big").getState());
        int n = beats(c, agents.get("h1"), "big").size();
        Thread.sleep(600);
        assertTrue(beats(c, agents.get("h1"), "big").size() > n, "still running on the source");
    }

    @Test
    void aCorruptedPageBatchAbortsCleanlyAndTheGuestRunsOnAtTheSource() throws Exception {
        assertTrue(c.launch(agents.get("bad"), "victim", "heartbeat", 128L << 20, Map.of("interval_ms", "50")).getOk());
        Thread.sleep(300);
        MigrationDone done = c.migrate(agents.get("bad"), agents.get("h2"), "victim", options(), p -> { },
                Duration.ofSeconds(60));
        assertFalse(done.getOk());
        assertTrue(done.getError().contains("CRC32C"), done.getError());
        assertEquals("RUNNING", instance(c, agents.get("bad"), "victim").getState());
        int n = beats(c, agents.get("bad"), "victim").size();
        Thread.sleep(400);
        assertTrue(beats(c, agents.get("bad"), "victim").size() > n, "still running on the source");
        Thread.sleep(1000);
        assertNull(instance(c, agents.get("h2"), "victim"), "the destination discarded its copy");
    }

    @Test
    void aPeerSpeakingAnotherProtocolVersionIsRefusedWithBothVersions() throws Exception {
        GeneratedMessage reply = AskPattern.<GeneratedMessage, GeneratedMessage>ask(agents.get("h2"),
                replyTo -> MigrationOffer.newBuilder().setMigrationId("m-v2").setInstanceId("x").setGuest("heartbeat")
                        .setMemoryBytes(64L << 20).setVersion(ProtocolVersion.newBuilder().setMajor(2).setMinor(3))
                        .setSourceHost("future").setSourceRef(c.refOf(replyTo)).build(),
                Duration.ofSeconds(20), c.system().scheduler()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        MigrationReject reject = (MigrationReject) reply;
        assertTrue(reject.getReason().contains("2.3")
                && reject.getReason().contains(ProtocolVersions.MAJOR + "." + ProtocolVersions.MINOR), reject.getReason());
    }

    @Test
    void anOperatorCancelEndsTheMigrationAndTheGuestRunsOnAtTheSource() throws Exception {
        assertTrue(c.launch(agents.get("h1"), "busy", "dirtier", 512L << 20,
                Map.of("workset", "256", "rate", "0", "mode", "word")).getOk());
        Thread.sleep(1000);
        MigrationDone done = c.migrate(agents.get("h1"), agents.get("h2"), "busy",
                MigrateInstance.newBuilder().setMigrationId("cancel-me").setDowntimeLimitMicros(1).setMaxRounds(100_000),
                p -> {
                    if (p.getRound() == 2) {
                        c.cancel(agents.get("h1"), "cancel-me");
                    }
                }, Duration.ofSeconds(120));
        assertFalse(done.getOk());
        assertTrue(done.getError().contains("cancelled"), done.getError());
        assertEquals("RUNNING", instance(c, agents.get("h1"), "busy").getState());
        var before = c.console(agents.get("h1"), "busy", 3).getLinesList();
        Thread.sleep(1500);
        assertFalse(c.console(agents.get("h1"), "busy", 3).getLinesList().equals(before), "the guest runs on");
        Thread.sleep(1500);
        assertNull(instance(c, agents.get("h2"), "busy"), "the destination discarded its copy");
    }
}
