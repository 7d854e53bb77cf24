package dev.ferry.orchestrator.registry;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.protocol.v1.CheckpointRecorded;
import dev.ferry.protocol.v1.InstanceLostRecorded;
import dev.ferry.protocol.v1.InstanceRegistered;
import dev.ferry.protocol.v1.MigrationSagaCommitted;
import dev.ferry.protocol.v1.MigrationSagaRolledBack;
import dev.ferry.protocol.v1.MigrationSagaStarted;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.protocol.v1.RestoreSagaCompleted;
import dev.ferry.protocol.v1.RestoreSagaFailed;
import dev.ferry.protocol.v1.RestoreSagaStarted;
import java.util.Map;

/**
 * One instance in the registry: where it runs, its ownership epoch, its newest checkpoint, and the saga in progress,
 * if any. {@link #apply} is the one transition function: every phase change goes through it, from an event.
 */
public record InstanceState(String id, Phase phase, String guest, long memory, Map<String, String> args,
                            String host, long epoch, Saga saga, String lastCheckpoint, long checkpoints,
                            String lostReason, java.util.List<String> cpuFeatures) {
    /** The saga in progress: a migration to {@code target}, or a restore onto {@code target} from {@code checkpoint}. */
    public record Saga(String id, String target, String checkpoint, long epoch, String stopHost) {
        static final Saga NONE = new Saga("", "", "", 0, "");
    }

    public InstanceState {
        args = Map.copyOf(args);
        cpuFeatures = java.util.List.copyOf(cpuFeatures);
    }

    public static InstanceState empty(String id) {
        return new InstanceState(id, Phase.NEW, "", 0, Map.of(), "", 0, Saga.NONE, "", 0, "", java.util.List.of());
    }

    public String migrationId() {
        return saga.id();
    }

    public String migrationTarget() {
        return saga.target();
    }

    private InstanceState to(Phase p, String h, long e, Saga s, String lost) {
        return new InstanceState(id, p, guest, memory, args, h, e, s, lastCheckpoint, checkpoints, lost, cpuFeatures);
    }

    public InstanceState apply(GeneratedMessage event) {
        if (event instanceof CheckpointRecorded e && phase != Phase.NEW) {
            return new InstanceState(id, phase, guest, memory, args, host, epoch, saga, e.getPath(), checkpoints + 1,
                    lostReason, cpuFeatures);
        }
        return switch (phase) {
            case NEW -> {
                if (event instanceof InstanceRegistered e) {
                    yield new InstanceState(id, Phase.RUNNING, e.getGuest(), e.getMemoryBytes(), e.getArgsMap(),
                            e.getHost(), e.getEpoch(), Saga.NONE, "", 0, "", e.getCpuFeaturesList());
                }
                throw illegal(event);
            }
            case RUNNING -> {
                if (event instanceof MigrationSagaStarted e) {
                    yield to(Phase.MIGRATING, host, epoch, new Saga(e.getMigrationId(), e.getTargetHost(), "", epoch + 1, ""), "");
                }
                if (event instanceof InstanceLostRecorded e) {
                    yield to(Phase.LOST, host, epoch, Saga.NONE, e.getReason());
                }
                if (event instanceof RestoreSagaStarted e) {
                    yield restoring(e);
                }
                throw illegal(event);
            }
            case MIGRATING -> {
                if (event instanceof MigrationSagaCommitted e) {
                    yield to(Phase.RUNNING, e.getTargetHost(), e.getEpoch(), Saga.NONE, "");
                }
                if (event instanceof MigrationSagaRolledBack) {
                    yield to(Phase.RUNNING, host, epoch, Saga.NONE, "");
                }
                if (event instanceof InstanceLostRecorded e) {
                    // The source died before the destination took over: no copy runs.
                    yield to(Phase.LOST, host, epoch, Saga.NONE, e.getReason());
                }
                throw illegal(event);
            }
            case LOST -> {
                if (event instanceof RestoreSagaStarted e) {
                    yield restoring(e);
                }
                throw illegal(event);
            }
            case RESTORING -> {
                if (event instanceof RestoreSagaCompleted e) {
                    yield to(Phase.RUNNING, e.getHost(), e.getEpoch(), Saga.NONE, "");
                }
                if (event instanceof RestoreSagaFailed e && e.getUntouched()) {
                    yield to(Phase.RUNNING, host, epoch, Saga.NONE, "");
                }
                if (event instanceof RestoreSagaFailed e) {
                    // Whatever ran before was stopped (or was lost): the instance is lost until a restore succeeds.
                    // The epoch stays raised, so a host that still has an older copy is fenced.
                    yield to(Phase.LOST, host, saga.epoch(), Saga.NONE, "restore failed: " + e.getReason());
                }
                throw illegal(event);
            }
        };
    }

    private InstanceState restoring(RestoreSagaStarted e) {
        return to(Phase.RESTORING, host, epoch, new Saga(e.getRestoreId(), e.getTargetHost(), e.getCheckpoint(),
                e.getEpoch(), e.getStopHost()), lostReason);
    }

    private IllegalStateException illegal(GeneratedMessage event) {
        return new IllegalStateException("instance " + id + " in phase " + phase + " cannot take "
                + event.getClass().getSimpleName());
    }

    public RegisteredInstance toProto() {
        return RegisteredInstance.newBuilder().setInstanceId(id).setGuest(guest).setMemoryBytes(memory).setHost(host)
                .setEpoch(epoch).setState(phase.name()).setMigrationId(phase == Phase.MIGRATING ? saga.id() : "")
                .setLastCheckpoint(lastCheckpoint).setCheckpoints(checkpoints).setLostReason(lostReason)
                .addAllCpuFeatures(cpuFeatures).build();
    }
}
