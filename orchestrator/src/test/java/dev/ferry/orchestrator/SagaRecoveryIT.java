package dev.ferry.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the orchestrator in each phase of a migration saga: right after the saga is persisted (the source not
 * told yet), during pre-copy, during stop-and-copy, and after the source answered but before the decision was
 * persisted. Each time a new orchestrator recovers the saga from the journal and drives it to a decision; exactly
 * one host runs the instance, at the epoch the registry records.
 */
@RequiresKvm
class SagaRecoveryIT {
    private static final Map<String, String> BUSY = Map.of("workset", "100", "rate", "0", "mode", "word");

    @TempDir
    Path dir;
    private LocalCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** One way to die: a fault the orchestrator halts at, or a moment in the progress reports to kill it. */
    private record Phase(String name, String halt, Predicate<dev.ferry.protocol.v1.MigrationProgress> killWhen,
                         String expectedHost) {}

    @Test
    void aSagaInterruptedInAnyPhaseIsDecidedByTheNextOrchestrator() throws Exception {
        List<Phase> phases = List.of(
                new Phase("after-saga-started", "after-saga-started", p -> false, "h1"),
                new Phase("pre-copy", "", p -> p.getRound() >= 1, null),
                new Phase("stop-and-copy", "", p -> p.getPhase().equals("stop-and-copy"), null),
                new Phase("before-saga-decision", "before-saga-decision", p -> false, "h2"));
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 8L << 30);
        cluster.startTogether(List.of(() -> cluster.startHost("h2", 8L << 30), cluster::client));
        HostClient client = cluster.client();
        List<String> outcomes = new ArrayList<>();
        int n = 0;
        for (Phase phase : phases) {
            long t0 = System.nanoTime();
            String orch = "orch" + n;
            String id = "busy" + n++;
            String[] props = phase.halt().isEmpty() ? new String[0]
                    : new String[] {"-Dferry.fault.orchestrator-halt=" + phase.halt()};
            cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, orch, props);
            cluster.agents(2);
            OrchestratorClient o = new OrchestratorClient(client);
            assertTrue(launch(o, id), "launch " + id);
            Thread.sleep(500);
            CompletableFuture.runAsync(() -> {
                try {
                    o.migrate(id, "h2", 50_000, p -> {
                        if (phase.killWhen().test(p) && cluster.host(orch).isAlive()) {
                            try {
                                cluster.host(orch).kill();
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
            while (cluster.host(orch).isAlive() && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(!cluster.host(orch).isAlive(), phase.name() + ": the orchestrator died mid-saga");
            // Its successor (same name and data directory, so the same journal) takes over.
            cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, orch);
            RegisteredInstance r = decided(new OrchestratorClient(client), id);
            List<String> copies = HostTruth.runningCopies(client, id);
            assertEquals(List.of(r.getHost() + "@" + r.getEpoch()), copies,
                    phase.name() + ": exactly one host runs it, where the registry says");
            if (phase.expectedHost() != null) {
                assertEquals(phase.expectedHost(), r.getHost(), phase.name());
            }
            assertEquals(r.getHost().equals("h2") ? 2 : 1, r.getEpoch(), phase.name());
            outcomes.add(String.format("%s -> %s@%d (%.0f s)", phase.name(), r.getHost(), r.getEpoch(),
                    (System.nanoTime() - t0) / 1e9));
            cluster.host(orch).close();
        }
        System.out.println("saga outcomes: " + outcomes);
    }

    private static boolean launch(OrchestratorClient o, String id) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            try {
                return o.launch(id, "dirtier", 256L << 20, BUSY, "h1").getOk();
            } catch (Exception notYet) {
                if (System.currentTimeMillis() > deadline) {
                    throw notYet;
                }
                Thread.sleep(500);
            }
        }
    }

    private static RegisteredInstance decided(OrchestratorClient o, String id) throws Exception {
        RegisteredInstance r = null;
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            try {
                r = o.instance(id);
                if (r.getState().equals("RUNNING")) {
                    return r;
                }
            } catch (Exception notYet) {
                // the new orchestrator is still taking over the shard
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the saga of " + id + " was not decided: " + r);
    }

}
