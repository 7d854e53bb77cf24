package dev.ferry.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.MigrateInstance;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live migration between host agents in separate JVMs on 127.0.0.1. */
@RequiresKvm
class MigrationIT {
    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;
    private LocalCluster cluster;

    @AfterEach
    void stopEverything() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static List<Guests.Beat> beats(HostClient c, ActorRef<GeneratedMessage> agent, String id) throws Exception {
        return Guests.beats(c.console(agent, id, 10_000).getLinesList());
    }

    private static InstanceInfo instance(HostClient c, ActorRef<GeneratedMessage> agent, String id) throws Exception {
        return c.list(agent).getInstancesList().stream().filter(i -> i.getInstanceId().equals(id)).findFirst().orElse(null);
    }

    private static MigrateInstance.Builder options() {
        return MigrateInstance.newBuilder().setDowntimeLimitMicros(50_000).setVerifyMemory(true);
    }

    @Test
    void migratesARunningHeartbeatWhichKeepsCountingWithTheSameMemory() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 4 * GIB);
        cluster.startHost("h2", 4 * GIB);
        HostClient c = cluster.client();
        Map<String, ActorRef<GeneratedMessage>> agents = cluster.agents(2);
        var launched = c.launch(agents.get("h1"), "hb", "heartbeat", 256L << 20, Map.of("interval_ms", "20"));
        assertTrue(launched.getOk(), launched.getError());
        Thread.sleep(500);
        MigrationDone done = c.migrate(agents.get("h1"), agents.get("h2"), "hb", options(), p -> { }, Duration.ofSeconds(60));
        assertTrue(done.getOk(), done.getError());
        assertTrue(done.getMemoryChecksum() != 0, "RAM checksums compared at switchover");
        List<Guests.Beat> before = beats(c, agents.get("h1"), "hb");
        assertTrue(before.isEmpty(), "the source no longer runs it");
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
        System.out.printf("heartbeat: total %.1f ms, downtime %.2f ms, %d rounds, %.2f Gbit/s%n",
                done.getTotalMicros() / 1e3, done.getDowntimeMicros() / 1e3, done.getRounds(), done.getGbps());
    }

    @Test
    void refusesBeforeSendingAnyPageWhenTheDestinationLacksMemory() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 4 * GIB);
        cluster.startHost("small", 128L << 20);
        HostClient c = cluster.client();
        var agents = cluster.agents(2);
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
}
