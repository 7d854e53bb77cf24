package dev.ferry.orchestrator.chaos;

import dev.ferry.orchestrator.OrchestratorClient;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.protocol.v1.RestoreResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Carries out the schedule's operations as an operator would, through the orchestrator, and counts how each ended:
 * succeeded, failed cleanly (the orchestrator said no, or said what went wrong), or no answer in time.
 */
final class Operator {
    static final long MIB = 1L << 20;
    static final Map<String, String> HEARTBEAT_ARGS = Map.of("interval_ms", "200");
    static final Map<String, String> DIRTIER_ARGS = Map.of("workset", "48", "rate", "3000", "mode", "word");
    static final Map<String, String> DISK_ARGS = Map.of("records", "64", "depth", "4", "report_ms", "0",
            "pause_ms", "1000");
    static final long COPY_RATE = 4 * MIB;
    static final Duration MIGRATION_LIMIT = Duration.ofSeconds(90);
    /**
     * How long the runner waits for a checkpoint or a restore (the orchestrator's own limit is 180 s): an answer lost
     * with a killed node must not hold one of the two operation threads for minutes.
     */
    static final Duration OP_LIMIT = Duration.ofSeconds(60);

    private final ChaosCluster cluster;
    private final OrchestratorClient orch;
    private final Instances instances;
    private final Ledger ledger;
    private final Probe probe;
    private final List<String> hosts;

    Operator(ChaosCluster cluster, OrchestratorClient orch, Instances instances, Ledger ledger, Probe probe,
             List<String> hosts) {
        this.cluster = cluster;
        this.orch = orch;
        this.instances = instances;
        this.ledger = ledger;
        this.probe = probe;
        this.hosts = hosts;
    }

    void run(Operation op) {
        String kind = op.kind();
        ledger.attempted(kind);
        try {
            String error;
            if (op instanceof Operation.Launch l) {
                error = launch(l);
            } else if (op instanceof Operation.Migrate m) {
                error = migrate(m.instance(), m.toHost(), p -> { });
            } else if (op instanceof Operation.Checkpoint c) {
                error = checkpoint(c.instance());
            } else if (op instanceof Operation.Restore r) {
                error = restore(r.instance(), r.host());
            } else {
                error = deploy((Operation.Deploy) op);
            }
            if (error == null) {
                ledger.succeeded(kind);
            } else {
                ledger.failedCleanly(kind, error);
            }
            if (error == null && op instanceof Operation.Launch l) {
                // as an operator would: a new instance gets its first checkpoint at once, so no fault finds it
                // without one
                run(new Operation.Checkpoint(op.atMillis(), l.instance()));
            }
        } catch (Exception e) {
            ledger.noAnswer(kind, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** Brings a lost instance back from its newest checkpoint, where placement chooses (counted as "recover"). */
    void recover(String id) {
        ledger.attempted("recover");
        try {
            RestoreResult r = orch.restoreAsync(id, null, null).toCompletableFuture().get(OP_LIMIT.toSeconds(),
                    TimeUnit.SECONDS);
            if (r.getOk()) {
                restored(id, r);
                ledger.succeeded("recover");
            } else {
                ledger.failedCleanly("recover", r.getError());
            }
        } catch (Exception e) {
            ledger.noAnswer("recover", e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private String launch(Operation.Launch l) throws Exception {
        boolean dirtier = l.guest().equals(Schedule.GUEST_DIRTIER);
        instances.add(l.instance(), l.guest(), false);
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            try {
                LaunchResult r = orch.launch(l.instance(), l.guest(), (dirtier ? 256 : 128) * MIB,
                        dirtier ? DIRTIER_ARGS : HEARTBEAT_ARGS, null);
                return r.getOk() ? null : r.getError();
            } catch (Exception notYet) {
                if (System.currentTimeMillis() > deadline) {
                    throw notYet;
                }
                Thread.sleep(1000);
            }
        }
    }

    /** The host to move {@code id} to: {@code wanted}, or the next host after it when it already runs there. */
    String otherThan(String current, String wanted) {
        if (!wanted.equals(current)) {
            return wanted;
        }
        return hosts.get((hosts.indexOf(wanted) + 1) % hosts.size());
    }

    String migrate(String id, String toHost, java.util.function.Consumer<dev.ferry.protocol.v1.MigrationProgress> onProgress)
            throws Exception {
        RegisteredInstance r = orch.instance(id);
        MigrationDone d = orch.migrate(id, otherThan(r.getHost(), toHost), 50_000, onProgress, MIGRATION_LIMIT);
        return d.getOk() ? null : d.getError();
    }

    private String checkpoint(String id) throws Exception {
        Instances.Tracked t = instances.get(id);
        long before = t == null ? -1 : t.beats.last();
        CheckpointResult c;
        try {
            c = orch.checkpointAsync(id).toCompletableFuture().get(OP_LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            // It may still have been written and recorded: a restore may go back anywhere from here on.
            if (t != null) {
                t.beats.checkpointed(Math.max(0, before), Long.MAX_VALUE / 4);
            }
            throw e;
        }
        if (!c.getOk()) {
            return c.getError();
        }
        long after = Long.MAX_VALUE / 4;
        Probe.Hosted at = probe.lists().get(c.getHost());
        if (at != null) {
            List<Long> seqs = HeartbeatTrack.seqs(probe.console(at.agent(), id).map(Probe.Console::lines)
                    .orElse(List.of()));
            if (!seqs.isEmpty()) {
                after = seqs.get(seqs.size() - 1);
            }
        }
        if (t != null) {
            t.beats.checkpointed(c.getPath(), c.getConsoleTail(), Math.max(0, before), after);
            t.checkpointsOk++;
        }
        return null;
    }

    private String restore(String id, String host) throws Exception {
        RegisteredInstance r = orch.instance(id);
        RestoreResult res = orch.restoreAsync(id, null, r.getState().equals("LOST") || host.isEmpty() ? null : host)
                .toCompletableFuture().get(OP_LIMIT.toSeconds(), TimeUnit.SECONDS);
        if (!res.getOk()) {
            return res.getError();
        }
        restored(id, res);
        return null;
    }

    private void restored(String id, RestoreResult r) {
        Instances.Tracked t = instances.get(id);
        if (t != null) {
            t.beats.restored(r.getEpoch(), r.getCheckpoint());
        }
    }

    private String deploy(Operation.Deploy d) throws Exception {
        instances.add(d.instance(), "disk", true);
        LaunchResult r = orch.deploy(d.instance(), "disk", 64 * MIB, DISK_ARGS, d.host(), ChaosCluster.IMAGE,
                cluster.proxy().address(), COPY_RATE);
        return r.getOk() ? null : r.getError();
    }
}
