package dev.ferry.host;

import static dev.ferry.host.MigrationIT.beats;
import static dev.ferry.host.MigrationIT.instance;
import static dev.ferry.host.MigrationIT.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.protocol.v1.MigrateInstance;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of either side of a live migration, each in its own cluster of host JVMs. */
@RequiresKvm
class MigrationCrashIT {
    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;
    private LocalCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A migration that keeps going round after round (a big, busy working set and an impossible downtime). */
    private static MigrateInstance.Builder endless() {
        return MigrateInstance.newBuilder().setDowntimeLimitMicros(1).setMaxRounds(100_000);
    }

    private static Map<String, String> busy() {
        return Map.of("workset", "256", "rate", "0", "mode", "word");
    }

    @Test
    void destinationKilledDuringPreCopyLeavesTheGuestRunningAndALaterRetrySucceeds() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 4 * GIB);
        cluster.startHost("h2", 4 * GIB);
        HostClient c = cluster.client();
        Map<String, ActorRef<GeneratedMessage>> agents = cluster.agents(2);
        assertTrue(c.launch(agents.get("h1"), "vm", "dirtier", 512L << 20, busy()).getOk());
        Thread.sleep(1000);
        CompletableFuture<MigrationDone> done = CompletableFuture.supplyAsync(() -> {
            try {
                return c.migrate(agents.get("h1"), agents.get("h2"), "vm", endless(), p -> {
                    if (p.getRound() >= 2 && cluster.host("h2").isAlive()) {
                        try {
                            cluster.host("h2").kill();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }, Duration.ofSeconds(120));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        MigrationDone failed = done.get(150, TimeUnit.SECONDS);
        assertFalse(failed.getOk(), "the migration must fail when the destination dies");
        assertEquals("RUNNING", instance(c, agents.get("h1"), "vm").getState(), failed.getError());
        var before = c.console(agents.get("h1"), "vm", 5).getLinesList();
        Thread.sleep(1500);
        assertTrue(!c.console(agents.get("h1"), "vm", 5).getLinesList().equals(before), "the guest runs on at the source");

        cluster.startHost("h2", 4 * GIB);
        var again = cluster.agents(2);
        assertNull(instance(c, again.get("h2"), "vm"), "the restarted destination discarded the partial copy");
        MigrationDone retried = c.migrate(again.get("h1"), again.get("h2"), "vm",
                MigrateInstance.newBuilder().setDowntimeLimitMicros(50_000).setMaxRounds(20), p -> { },
                Duration.ofSeconds(120));
        assertTrue(retried.getOk(), retried.getError());
        assertEquals("RUNNING", instance(c, again.get("h2"), "vm").getState());
    }

    @Test
    void destinationDeadAfterFinalStateButBeforeCommitLetsTheSourceResume() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 4 * GIB);
        cluster.startHost("h2", 4 * GIB, "-Dferry.fault.halt-after-final-state=true");
        HostClient c = cluster.client();
        var agents = cluster.agents(2);
        assertTrue(c.launch(agents.get("h1"), "hb", "heartbeat", 128L << 20, Map.of("interval_ms", "50")).getOk());
        Thread.sleep(300);
        MigrationDone done = c.migrate(agents.get("h1"), agents.get("h2"), "hb", options(), p -> { },
                Duration.ofSeconds(90));
        assertFalse(done.getOk());
        assertFalse(cluster.host("h2").isAlive(), "the destination died at the final state");
        assertEquals("RUNNING", instance(c, agents.get("h1"), "hb").getState(), done.getError());
        int n = beats(c, agents.get("h1"), "hb").size();
        Thread.sleep(500);
        assertTrue(beats(c, agents.get("h1"), "hb").size() > n, "the source resumed the guest");
    }

    @Test
    void sourceKilledDuringPreCopyMakesTheDestinationDiscardItsCopy() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 4 * GIB);
        cluster.startHost("h2", 4 * GIB);
        HostClient c = cluster.client();
        var agents = cluster.agents(2);
        assertTrue(c.launch(agents.get("h1"), "vm", "dirtier", 512L << 20, busy()).getOk());
        Thread.sleep(1000);
        CompletableFuture.runAsync(() -> {
            try {
                c.migrate(agents.get("h1"), agents.get("h2"), "vm", endless(), p -> {
                    if (p.getRound() >= 2 && cluster.host("h1").isAlive()) {
                        try {
                            cluster.host("h1").kill();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }, Duration.ofSeconds(60));
            } catch (Exception expected) {
                // the source died: no final report comes
            }
        });
        long deadline = System.currentTimeMillis() + 60_000;
        while (cluster.host("h1").isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertFalse(cluster.host("h1").isAlive());
        String state = "MIGRATING_IN";
        while (System.currentTimeMillis() < deadline) {
            var i = instance(c, agents.get("h2"), "vm");
            if (i == null) {
                state = null;
                break;
            }
            Thread.sleep(200);
        }
        assertNull(state, "the destination discarded the partial copy");
    }
}
