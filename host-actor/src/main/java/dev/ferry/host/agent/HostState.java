package dev.ferry.host.agent;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.protocol.v1.DeploymentEnded;
import dev.ferry.protocol.v1.DeploymentStarted;
import dev.ferry.protocol.v1.InstanceLaunched;
import dev.ferry.protocol.v1.InstanceLost;
import dev.ferry.protocol.v1.InstanceRestored;
import dev.ferry.protocol.v1.InstanceStopped;
import dev.ferry.protocol.v1.MigrationInAborted;
import dev.ferry.protocol.v1.MigrationInCommitted;
import dev.ferry.protocol.v1.MigrationInStarted;
import dev.ferry.protocol.v1.MigrationOutCommitted;
import dev.ferry.protocol.v1.MigrationOutFailed;
import dev.ferry.protocol.v1.MigrationOutStarted;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The host agent's persisted state: every instance it has known, and the streaming deployments among them, rebuilt
 * from its journal by {@link #apply}.
 */
public record HostState(Map<String, InstanceRecord> instances, Map<String, DeploymentRecord> deployments) {
    public static final HostState EMPTY = new HostState(Map.of(), Map.of());

    public HostState {
        instances = Collections.unmodifiableMap(new LinkedHashMap<>(instances));
        deployments = Collections.unmodifiableMap(new LinkedHashMap<>(deployments));
    }

    public HostState(Map<String, InstanceRecord> instances) {
        this(instances, Map.of());
    }

    public long memoryInUse() {
        return instances.values().stream().filter(i -> i.status().occupiesMemory()).mapToLong(InstanceRecord::memory).sum();
    }

    private HostState put(InstanceRecord r) {
        Map<String, InstanceRecord> m = new LinkedHashMap<>(instances);
        m.put(r.id(), r);
        return new HostState(m, deployments);
    }

    private HostState update(String id, java.util.function.UnaryOperator<InstanceRecord> f) {
        InstanceRecord r = instances.get(id);
        return r == null ? this : put(f.apply(r));
    }

    private HostState withDeployment(String id, DeploymentRecord d) {
        Map<String, DeploymentRecord> m = new LinkedHashMap<>(deployments);
        if (d == null) {
            if (!m.containsKey(id)) {
                return this;
            }
            m.remove(id);
        } else {
            m.put(id, d);
        }
        return new HostState(instances, m);
    }

    /** The event handler: the only place state changes. */
    public HostState apply(GeneratedMessage event) {
        if (event instanceof InstanceLaunched e) {
            // a DeploymentStarted follows when this launch streams its disk; an older one of the same id is over
            return put(new InstanceRecord(e.getInstanceId(), e.getGuest(), e.getMemoryBytes(), e.getArgsMap(),
                    e.getEpoch(), InstanceStatus.RUNNING, "", "")).withDeployment(e.getInstanceId(), null);
        } else if (event instanceof InstanceRestored e) {
            return put(new InstanceRecord(e.getInstanceId(), e.getGuest(), e.getMemoryBytes(), e.getArgsMap(),
                    e.getEpoch(), InstanceStatus.RUNNING, "", "restored from " + e.getCheckpoint()));
        } else if (event instanceof InstanceStopped e) {
            return update(e.getInstanceId(), r -> r.with(InstanceStatus.STOPPED, "", e.getReason()));
        } else if (event instanceof InstanceLost e) {
            return update(e.getInstanceId(), r -> r.with(InstanceStatus.LOST, "", e.getReason()));
        } else if (event instanceof MigrationOutStarted e) {
            return update(e.getInstanceId(), r -> r.with(InstanceStatus.MIGRATING_OUT, e.getMigrationId(),
                    "to " + e.getDestinationHost()));
        } else if (event instanceof MigrationOutCommitted e) {
            return update(e.getInstanceId(), r -> r.with(InstanceStatus.MIGRATED_AWAY, e.getMigrationId(), "")
                    .withEpoch(e.getEpoch()));
        } else if (event instanceof MigrationOutFailed e) {
            return update(e.getInstanceId(), r -> r.with(InstanceStatus.RUNNING, "", e.getReason()));
        } else if (event instanceof MigrationInStarted e) {
            return put(new InstanceRecord(e.getInstanceId(), e.getGuest(), e.getMemoryBytes(), e.getArgsMap(), 0,
                    InstanceStatus.MIGRATING_IN, e.getMigrationId(), "from " + e.getSourceHost()));
        } else if (event instanceof MigrationInCommitted e) {
            return update(e.getInstanceId(), r -> r.with(InstanceStatus.RUNNING, "", "").withEpoch(e.getEpoch()));
        } else if (event instanceof MigrationInAborted e) {
            InstanceRecord r = instances.get(e.getInstanceId());
            if (r == null || r.status() != InstanceStatus.MIGRATING_IN) {
                return this;
            }
            Map<String, InstanceRecord> m = new LinkedHashMap<>(instances);
            m.remove(e.getInstanceId());
            return new HostState(m, deployments);
        } else if (event instanceof DeploymentStarted e) {
            return withDeployment(e.getInstanceId(), new DeploymentRecord(e.getImage(), e.getImageServer(),
                    e.getDiskPath(), e.getTotalBytes(), false, false, "", -1, -1));
        } else if (event instanceof DeploymentEnded e) {
            DeploymentRecord d = deployments.get(e.getInstanceId());
            return d == null ? this : withDeployment(e.getInstanceId(), d.ended(e.getOk(), e.getError(), e.getCopyMs(),
                    e.getDevirtMs()));
        }
        throw new IllegalArgumentException("unknown host event " + event.getClass().getName());
    }
}
