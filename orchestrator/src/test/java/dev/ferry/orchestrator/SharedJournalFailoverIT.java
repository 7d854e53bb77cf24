package dev.ferry.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.persistence.postgres.local.PostgresServer;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two orchestrator nodes on one PostgreSQL journal: kill -9 of one, in the middle of a migration saga, moves its
 * share of the registry to the other, which recovers every instance from the shared journal and decides the saga.
 */
@RequiresKvm
class SharedJournalFailoverIT {
    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;
    private LocalCluster cluster;
    private PostgresServer postgres;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void theSurvivingOrchestratorRecoversTheRegistryFromTheSharedJournalAndDecidesTheSaga() throws Exception {
        assertTrue(PostgresServer.isAvailable(), PostgresServer.unavailabilityCause());
        postgres = PostgresServer.start();
        String[] onPostgres = {"-Dferry.journal=postgres", "-Dferry.postgres.url=" + postgres.jdbcUrl(),
            "-Dferry.postgres.user=" + postgres.user(), "-Dferry.postgres.password=" + postgres.password()};
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 4L << 30);
        // o1 is up before o2 starts: the oldest orchestrator, it holds the shard coordinator when it is killed.
        cluster.startTogether(List.of(() -> cluster.startHost("h2", 4L << 30), cluster::client,
                () -> cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, "o1", onPostgres)));
        cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, "o2", onPostgres);
        cluster.agents(2);
        HostClient client = cluster.client();
        OrchestratorClient orch = new OrchestratorClient(client);
        orch.gateway(Duration.ofSeconds(60));

        Map<String, String> hostOf = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            String id = "i" + i;
            String host = i % 2 == 0 ? "h1" : "h2";
            assertTrue(orch.launch(id, "heartbeat", 32 * MIB, Map.of(), host).getOk(), id);
            hostOf.put(id, host);
        }
        assertTrue(orch.launch("busy", "dirtier", 512 * MIB, Map.of("workset", "200", "rate", "0", "mode", "word"),
                "h1").getOk());
        Thread.sleep(1000);
        // The migration is asked on a thread of its own: if o1 ran the saga, no answer ever comes, and the thread is
        // interrupted once the saga is decided rather than waited out.
        ExecutorService migrating = Executors.newSingleThreadExecutor();
        migrating.execute(() -> {
            try {
                orch.migrate("busy", "h2", 50_000, p -> {
                    if (p.getRound() >= 1 && cluster.host("o1").isAlive()) {
                        try {
                            cluster.host("o1").kill();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }, Duration.ofSeconds(90));
            } catch (Exception expected) {
                // the orchestrator that ran the saga may be the one that died
            }
        });
        long deadline = System.currentTimeMillis() + 90_000;
        while (cluster.host("o1").isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(!cluster.host("o1").isAlive(), "o1 was killed mid-saga");

        // Every instance is still known, where it runs, through the surviving orchestrator.
        for (Map.Entry<String, String> e : hostOf.entrySet()) {
            HostTruth.await(e.getKey() + " is served by o2", Duration.ofSeconds(90), () -> {
                try {
                    RegisteredInstance r = instance(orch, e.getKey());
                    return r.getState().equals("RUNNING") && r.getHost().equals(e.getValue()) && r.getEpoch() == 1;
                } catch (Exception notYet) {
                    return false;
                }
            });
        }
        HostTruth.await("the saga is decided", Duration.ofSeconds(90), () -> {
            try {
                return instance(orch, "busy").getState().equals("RUNNING");
            } catch (Exception notYet) {
                return false;
            }
        });
        migrating.shutdownNow();
        assertTrue(migrating.awaitTermination(30, TimeUnit.SECONDS), "the migration's thread ended");
        RegisteredInstance busy = orch.instance("busy");
        assertEquals(List.of(busy.getHost() + "@" + busy.getEpoch()), HostTruth.runningCopies(client, "busy"),
                "exactly one host runs it, as the registry says");

        // Entities that lived on o1 were recovered on o2 from PostgreSQL (o2 logs each recovery).
        String o2log = Files.readString(cluster.host("o2").log());
        List<String> recovered = new ArrayList<>(o2log.lines().filter(l -> l.contains("recovered on")).toList());
        assertTrue(!recovered.isEmpty(), "o2 recovered entities that lived on o1:\n" + o2log);
    }

    /**
     * The registry's record of {@code id}, asked for 5 s at most: an ask that went to o1 just before it died is never
     * answered, and the next one is sent rather than that one waited out.
     */
    private static RegisteredInstance instance(OrchestratorClient orch, String id) throws Exception {
        return orch.instanceAsync(id).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
}
