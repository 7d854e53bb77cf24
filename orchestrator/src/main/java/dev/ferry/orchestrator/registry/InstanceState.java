package dev.ferry.orchestrator.registry;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.protocol.v1.InstanceRegistered;
import dev.ferry.protocol.v1.MigrationSagaCommitted;
import dev.ferry.protocol.v1.MigrationSagaRolledBack;
import dev.ferry.protocol.v1.MigrationSagaStarted;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.util.Map;

/**
 * One instance in the registry: where it runs, its ownership epoch, and the migration saga in progress, if any.
 * {@link #apply} is the one transition function: every phase change goes through it, from an event.
 */
public record InstanceState(String id, Phase phase, String guest, long memory, Map<String, String> args,
                            String host, long epoch, String migrationId, String migrationTarget) {
    public InstanceState {
        args = Map.copyOf(args);
    }

    public static InstanceState empty(String id) {
        return new InstanceState(id, Phase.NEW, "", 0, Map.of(), "", 0, "", "");
    }

    public InstanceState apply(GeneratedMessage event) {
        return switch (phase) {
            case NEW -> {
                if (event instanceof InstanceRegistered e) {
                    yield new InstanceState(id, Phase.RUNNING, e.getGuest(), e.getMemoryBytes(), e.getArgsMap(),
                            e.getHost(), e.getEpoch(), "", "");
                }
                throw illegal(event);
            }
            case RUNNING -> {
                if (event instanceof MigrationSagaStarted e) {
                    yield new InstanceState(id, Phase.MIGRATING, guest, memory, args, host, epoch, e.getMigrationId(),
                            e.getTargetHost());
                }
                throw illegal(event);
            }
            case MIGRATING -> {
                if (event instanceof MigrationSagaCommitted e) {
                    yield new InstanceState(id, Phase.RUNNING, guest, memory, args, e.getTargetHost(), e.getEpoch(), "", "");
                }
                if (event instanceof MigrationSagaRolledBack) {
                    yield new InstanceState(id, Phase.RUNNING, guest, memory, args, host, epoch, "", "");
                }
                throw illegal(event);
            }
        };
    }

    private IllegalStateException illegal(GeneratedMessage event) {
        return new IllegalStateException("instance " + id + " in phase " + phase + " cannot take "
                + event.getClass().getSimpleName());
    }

    public RegisteredInstance toProto() {
        return RegisteredInstance.newBuilder().setInstanceId(id).setGuest(guest).setMemoryBytes(memory).setHost(host)
                .setEpoch(epoch).setState(phase.name()).setMigrationId(migrationId).build();
    }
}
