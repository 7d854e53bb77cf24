package dev.ferry.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.host.local.LocalCluster;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of the orchestrator in the middle of a migration saga: a new orchestrator drives it to its decision. */
@RequiresKvm
class SagaRecoveryIT {
    @TempDir
    Path dir;
    private LocalCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aSagaInterruptedByTheOrchestratorsDeathIsDecidedByItsSuccessor() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 4L << 30);
        cluster.startHost("h2", 4L << 30);
        cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, "orch");
        cluster.agents(2);
        OrchestratorClient orch = new OrchestratorClient(cluster.client());
        assertTrue(orch.launch("busy", "dirtier", 512L << 20, Map.of("workset", "200", "rate", "0", "mode", "word"),
                "h1").getOk());
        Thread.sleep(1000);
        CompletableFuture.runAsync(() -> {
            try {
                orch.migrate("busy", "h2", 50_000, p -> {
                    if (p.getRound() >= 1 && cluster.host("orch").isAlive()) {
                        try {
                            cluster.host("orch").kill();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }, Duration.ofSeconds(60));
            } catch (Exception expected) {
                // the orchestrator that would have answered is dead
            }
        });
        long deadline = System.currentTimeMillis() + 60_000;
        while (cluster.host("orch").isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, "orch");
        RegisteredInstance r = null;
        deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            try {
                r = orch.instance("busy");
                if (r.getState().equals("RUNNING")) {
                    break;
                }
            } catch (Exception notYet) {
                // the new orchestrator is still taking over the shard
            }
            Thread.sleep(500);
        }
        assertTrue(r != null && r.getState().equals("RUNNING"), "the saga was decided: " + r);
        java.util.List<String> copies = HostTruth.runningCopies(cluster.client(), "busy");
        assertEquals(1, copies.size(), "exactly one host runs the instance: " + copies);
        assertEquals(r.getHost() + "@" + r.getEpoch(), copies.get(0), "the registry agrees with the hosts");
        String runsOn = r.getHost();
        if (r.getHost().equals("h2")) {
            assertEquals(2, r.getEpoch());
        } else {
            assertNotEquals("h2", runsOn);
            assertEquals(1, r.getEpoch());
        }
    }
}
