package dev.ferry.host.agent;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.capture.VmDeviceCapture;
import dev.ferry.capture.shadow.DeviceCapture;
import dev.ferry.host.deploy.Deployment;
import dev.ferry.host.deploy.DeploymentException;
import dev.ferry.host.migration.AgentLink;
import dev.ferry.host.migration.MigrationDestination;
import dev.ferry.host.migration.MigrationException;
import dev.ferry.host.migration.MigrationSource;
import dev.ferry.host.migration.SwitchoverCost;
import dev.ferry.protocol.ProtocolVersions;
import dev.ferry.protocol.v1.CancelMigration;
import dev.ferry.protocol.v1.CheckpointInstance;
import dev.ferry.protocol.v1.CheckpointReply;
import dev.ferry.protocol.v1.FenceInstance;
import dev.ferry.protocol.v1.InstanceRestored;
import dev.ferry.protocol.v1.RestoreInstance;
import dev.ferry.protocol.v1.RestoreReply;
import dev.ferry.protocol.v1.ConsoleReply;
import dev.ferry.protocol.v1.ConsoleRequest;
import dev.ferry.protocol.v1.DeploymentEnded;
import dev.ferry.protocol.v1.DeploymentStarted;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.InstanceLaunched;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.InstanceLost;
import dev.ferry.protocol.v1.InstanceStopped;
import dev.ferry.protocol.v1.LaunchInstance;
import dev.ferry.protocol.v1.LaunchReply;
import dev.ferry.protocol.v1.ListInstances;
import dev.ferry.protocol.v1.MigrateInstance;
import dev.ferry.protocol.v1.MigrationAccept;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationInAborted;
import dev.ferry.protocol.v1.MigrationInStarted;
import dev.ferry.protocol.v1.MigrationOffer;
import dev.ferry.protocol.v1.MigrationOutStarted;
import dev.ferry.protocol.v1.MigrationReject;
import dev.ferry.protocol.v1.StopInstance;
import dev.ferry.protocol.v1.StopReply;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import dev.ferry.vmm.VmResult;
import dev.ferry.vmm.boot.GuestImage;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.memory.MemorySize;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The agent of one host: launches and stops this host's VMs, answers for them, and runs both sides of live
 * migrations. Its state (which instances it has, and their migrations) is event-sourced into this node's LevelDB
 * journal with protobuf events, so an agent that restarts knows what it was doing: VMs that died with the process are
 * reported lost, and half-received migrations are discarded.
 *
 * <p>Other nodes reach it through its gateway (registered with the Receptionist under {@link #SERVICE}), which takes
 * protobuf messages only; replies go to the serialized actor reference each request carries.
 */
public final class HostAgent extends EventSourcedBehavior<HostAgent.Command, GeneratedMessage, HostState> {
    public static final ServiceKey<GeneratedMessage> SERVICE = ServiceKey.create(GeneratedMessage.class, "ferry-host-agent");

    public sealed interface Command {}

    /** A protobuf message from another node, through the gateway. */
    public record Remote(GeneratedMessage message) implements Command {}

    record PersistEvent(GeneratedMessage event, ActorRef<Done> replyTo) implements Command {}

    /** The node is shutting down (downed by the split-brain resolver, say): close every VM now. */
    record CloseVms(String reason, ActorRef<Done> replyTo) implements Command {}

    record OutgoingEnded(MigrationSource.Outcome outcome) implements Command {}

    record Arrived(MigrationDestination.Arrival arrival) implements Command {}

    record Discarded(String migrationId) implements Command {}

    record VmEnded(String instanceId, VmResult result) implements Command {}

    record RecoveryDone() implements Command {}

    record CheckpointEnded(String instanceId) implements Command {}

    record RestoreBuilt(RestoreInstance request, Snapshots.Restored restored, String error) implements Command {}

    record DeploymentFinished(Deployment deployment) implements Command {}

    /** A VM this host runs now. */
    private record Running(Vm vm, DeviceCapture devices) {}

    private final ActorContext<Command> ctx;
    private final String hostName;
    private final long capacity;
    private final ActorRefResolver resolver;
    private final ActorRef<GeneratedMessage> gateway;
    private final Map<String, Running> running = new HashMap<>();
    private final SwitchoverCost switchoverCost = new SwitchoverCost();
    private final java.util.Set<String> checkpointing = new java.util.HashSet<>();
    /** Instances being restored here, with the memory they will take. */
    private final Map<String, Long> restoring = new HashMap<>();
    private final org.apache.pekko.actor.Cancellable closeOnShutdown;
    /** Streaming deployments of VMs this process runs; where their disks go. */
    private final Map<String, Deployment> deployments = new HashMap<>();
    /** Deployments the previous process left unfinished: how much of each disk its stored bitmap says is local. */
    private final Map<String, DeploymentReports.Stored> interrupted = new HashMap<>();
    private final java.nio.file.Path disks;
    private final dev.ferry.host.journal.DiskSpace space;
    /** Free bytes the data disk must keep for the journal before a new instance is taken on. */
    private final long dataReserve;
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "host-agent-worker");
        t.setDaemon(true);
        return t;
    });
    private final MigrationRunners runners = new MigrationRunners(workers);
    private final Map<String, MigrationSource> outgoing = runners.outgoing();
    private final Map<String, MigrationDestination> incoming = runners.incoming();

    public static Behavior<Command> create(String hostName, long capacity) {
        return create(hostName, capacity, java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "ferry-" + hostName));
    }

    /** An agent whose deployed instances' disks go to {@code dataDir/disks}. */
    public static Behavior<Command> create(String hostName, long capacity, java.nio.file.Path dataDir) {
        return Behaviors.setup(ctx -> new HostAgent(ctx, hostName, capacity, dataDir));
    }

    private HostAgent(ActorContext<Command> ctx, String hostName, long capacity, java.nio.file.Path dataDir) {
        super(PersistenceId.ofUniqueId("host-" + hostName));
        this.disks = dataDir.resolve("disks");
        this.space = new dev.ferry.host.journal.DiskSpace(dataDir);
        var config = ctx.getSystem().settings().config();
        this.dataReserve = config.hasPath("ferry.host.data-reserve") ? config.getBytes("ferry.host.data-reserve")
                : 16L << 20;
        this.ctx = ctx;
        this.hostName = hostName;
        this.capacity = capacity;
        this.resolver = ActorRefResolver.get(ctx.getSystem());
        ActorRef<Command> self = ctx.getSelf();
        this.gateway = ctx.spawn(Behaviors.receive(GeneratedMessage.class)
                .onMessage(GeneratedMessage.class, m -> {
                    if (!runners.route(m)) {
                        self.tell(new Remote(m));
                    }
                    return Behaviors.same();
                }).build(), "gateway");
        ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE, gateway));
        // A node that is downed (cut off from the majority, say) shuts down in phases that may wait for a cluster it
        // cannot reach; its guests stop in the first phase, before the others may call them lost and restore them.
        CoordinatedShutdown shutdown = CoordinatedShutdown.get(ctx.getSystem());
        this.closeOnShutdown = shutdown.addCancellableTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "close-vms",
                () -> AskPattern.<Command, Done>ask(self, replyTo -> new CloseVms(shutdown.getShutdownReason()
                                .map(Object::toString).orElse("shutdown"), replyTo), Duration.ofSeconds(5),
                        ctx.getSystem().scheduler()).exceptionally(e -> Done.getInstance()));
        // Learn once, ahead of any migration, which MSRs save and restore (a few hundred ioctls on a scratch VM), and
        // run the state path once, so the first switchover does not pay for either while the guest is paused.
        workers.execute(WarmUp::run);
    }

    @Override
    public HostState emptyState() {
        return HostState.EMPTY;
    }

    @Override
    public EventHandler<HostState, GeneratedMessage> eventHandler() {
        return (state, event) -> state.apply(event);
    }

    @Override
    public SignalHandler<HostState> signalHandler() {
        return newSignalHandlerBuilder()
                .onSignal(RecoveryCompleted.instance(), s -> ctx.getSelf().tell(new RecoveryDone()))
                .onSignal(PostStop.instance(), s -> shutDown())
                .build();
    }

    @Override
    public CommandHandler<Command, GeneratedMessage, HostState> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Remote.class, this::onRemote)
                .onCommand(PersistEvent.class, (s, c) -> Effect().persist(c.event()).thenRun(x -> c.replyTo().tell(Done.getInstance())))
                .onCommand(CloseVms.class, (s, c) -> {
                    closeVms(c.reason());
                    c.replyTo().tell(Done.getInstance());
                    return Effect().none();
                })
                .onCommand(OutgoingEnded.class, this::onOutgoingEnded)
                .onCommand(Arrived.class, this::onArrived)
                .onCommand(Discarded.class, (s, c) -> {
                    incoming.remove(c.migrationId());
                    return Effect().none();
                })
                .onCommand(VmEnded.class, this::onVmEnded)
                .onCommand(RecoveryDone.class, this::onRecoveryDone)
                .onCommand(CheckpointEnded.class, (s, c) -> {
                    checkpointing.remove(c.instanceId());
                    return Effect().none();
                })
                .onCommand(RestoreBuilt.class, this::onRestoreBuilt)
                .onCommand(DeploymentFinished.class, this::onDeploymentFinished)
                .build();
    }

    private void reply(String ref, GeneratedMessage m) {
        if (!ref.isEmpty()) {
            ActorRef<GeneratedMessage> r = resolver.resolveActorRef(ref);
            r.tell(m);
        }
    }

    private Effect<GeneratedMessage, HostState> onRemote(HostState state, Remote r) {
        GeneratedMessage m = r.message();
        if (m instanceof LaunchInstance l) {
            return launch(state, l);
        } else if (m instanceof ListInstances l) {
            reply(l.getReplyTo(), list(state));
        } else if (m instanceof StopInstance s) {
            return stop(state, s);
        } else if (m instanceof ConsoleRequest c) {
            Running run = running.get(c.getInstanceId());
            ConsoleReply.Builder b = ConsoleReply.newBuilder().setInstanceId(c.getInstanceId()).setFound(run != null);
            InstanceRecord rec = state.instances().get(c.getInstanceId());
            if (rec != null) {
                b.setEpoch(rec.epoch());
            }
            if (run != null) {
                List<String> lines = run.vm().console().recentLines();
                int max = c.getMaxLines() > 0 ? c.getMaxLines() : 100;
                b.addAllLines(lines.subList(Math.max(0, lines.size() - max), lines.size()));
            }
            reply(c.getReplyTo(), b.build());
        } else if (m instanceof MigrateInstance mi) {
            return migrateOut(state, mi);
        } else if (m instanceof CheckpointInstance c) {
            checkpoint(state, c);
        } else if (m instanceof RestoreInstance ri) {
            restore(state, ri);
        } else if (m instanceof FenceInstance f) {
            return fence(state, f);
        } else if (m instanceof CancelMigration c) {
            MigrationSource src = outgoing.get(c.getMigrationId());
            if (src != null) {
                src.cancel();
            }
        } else if (m instanceof MigrationOffer o) {
            return migrateIn(state, o);
        } else {
            ctx.getLog().warn("ignoring unexpected {}", m.getClass().getSimpleName());
        }
        return Effect().none();
    }

    private InstanceList list(HostState state) {
        InstanceList.Builder b = InstanceList.newBuilder().setHost(hostName).setMemoryCapacity(capacity)
                .setMemoryFree(Math.max(0, capacity - state.memoryInUse()));
        if (Hypervisor.isAvailable()) {
            b.addAllCpuFeatures(Hypervisor.get().cpuFeatures());
        }
        for (InstanceRecord r : state.instances().values()) {
            InstanceInfo.Builder i = InstanceInfo.newBuilder().setInstanceId(r.id()).setGuest(r.guest())
                    .setMemoryBytes(r.memory()).setState(r.status().name()).setEpoch(r.epoch());
            if (r.note() != null) {
                i.setNote(r.note());
            }
            DeploymentRecord d = state.deployments().get(r.id());
            if (d != null) {
                DeploymentReports.describe(i, r.id(), hostName, d, deployments.get(r.id()), interrupted.get(r.id()));
            }
            b.addInstances(i);
        }
        return b.build();
    }

    /** Why an instance of {@code memory} bytes cannot start here (memory, or room on the data disk), or null. */
    private String refuseRoom(HostState state, long memory) {
        String diskShort = space.shortOf(dataReserve);
        if (diskShort != null) {
            return "host " + hostName + " takes no new instance: " + diskShort;
        }
        try {
            dev.ferry.vmm.memory.MemoryLayout.validate(memory);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        long free = capacity - state.memoryInUse() - restoring.values().stream().mapToLong(Long::longValue).sum();
        if (memory > free) {
            return "not enough memory on " + hostName + ": needs " + MemorySize.format(memory) + ", "
                    + MemorySize.format(Math.max(0, free)) + " free of " + MemorySize.format(capacity);
        }
        return null;
    }

    private Effect<GeneratedMessage, HostState> launch(HostState state, LaunchInstance l) {
        LaunchReply.Builder reply = LaunchReply.newBuilder().setInstanceId(l.getInstanceId()).setHost(hostName);
        InstanceRecord existing = state.instances().get(l.getInstanceId());
        String refusal = existing != null && existing.status().occupiesMemory()
                ? "instance " + l.getInstanceId() + " already exists on " + hostName
                : refuseRoom(state, l.getMemoryBytes());
        if (refusal != null) {
            reply(l.getReplyTo(), reply.setOk(false).setError(refusal).build());
            return Effect().none();
        }
        if (!l.getImage().isEmpty()) {
            return deploy(l, reply);
        }
        Vm vm;
        DeviceCapture devices;
        try {
            ConsoleOutput console = new ConsoleOutput();
            vm = Hypervisor.get().boot(new VmConfig(l.getInstanceId(), GuestImage.load(l.getGuest()), l.getMemoryBytes(),
                    l.getArgsMap(), console));
            devices = VmDeviceCapture.attach(vm);
            vm.start();
        } catch (RuntimeException e) {
            reply(l.getReplyTo(), reply.setOk(false).setError(e.getMessage()).build());
            return Effect().none();
        }
        adopt(l.getInstanceId(), vm, devices);
        return Effect().persist(InstanceLaunched.newBuilder().setInstanceId(l.getInstanceId()).setGuest(l.getGuest())
                        .setMemoryBytes(l.getMemoryBytes()).putAllArgs(l.getArgsMap()).setEpoch(1).build())
                .thenRun(s -> reply(l.getReplyTo(), reply.setOk(true).build()));
    }

    /** A launch with an image: boot at once from the streamed disk (see {@link Deployment}). */
    private Effect<GeneratedMessage, HostState> deploy(LaunchInstance l, LaunchReply.Builder reply) {
        ActorRef<Command> self = ctx.getSelf();
        Deployment d;
        DeviceCapture[] devices = new DeviceCapture[1];
        try {
            d = Deployment.start(disks, new Deployment.Spec(l.getInstanceId(), l.getGuest(), l.getMemoryBytes(),
                            l.getArgsMap(), l.getImage(), l.getImageServer(), l.getCopyRateLimit()),
                    dev.ferry.storage.stream.StreamingDisk.Options.defaults(), new ConsoleOutput(),
                    vm -> devices[0] = VmDeviceCapture.attach(vm), done -> self.tell(new DeploymentFinished(done)));
        } catch (DeploymentException | RuntimeException e) {
            reply(l.getReplyTo(), reply.setOk(false).setError("deploy of " + l.getInstanceId() + " on " + hostName
                    + ": " + e.getMessage()).build());
            return Effect().none();
        }
        deployments.put(l.getInstanceId(), d);
        interrupted.remove(l.getInstanceId());
        adopt(l.getInstanceId(), d.vm(), devices[0]);
        Deployment.Progress p = d.progress();
        return Effect().persist(List.of(InstanceLaunched.newBuilder().setInstanceId(l.getInstanceId())
                                .setGuest(l.getGuest()).setMemoryBytes(l.getMemoryBytes()).putAllArgs(l.getArgsMap())
                                .setEpoch(1).build(),
                        DeploymentStarted.newBuilder().setInstanceId(l.getInstanceId()).setImage(l.getImage())
                                .setImageServer(l.getImageServer()).setDiskPath(d.disk().toString())
                                .setTotalBytes(p.totalBytes()).build()))
                .thenRun(s -> reply(l.getReplyTo(), reply.setOk(true).build()));
    }

    private Effect<GeneratedMessage, HostState> onDeploymentFinished(HostState state, DeploymentFinished f) {
        String id = f.deployment().spec().instanceId();
        if (deployments.get(id) != f.deployment() || !state.deployments().containsKey(id)) {
            return Effect().none();
        }
        Deployment.Progress p = f.deployment().progress();
        boolean ok = p.state() == Deployment.State.LOCAL;
        if (!ok && p.state() != Deployment.State.FAILED) {
            return Effect().none();   // stopped before the copy completed: the journal says so through the instance
        }
        return Effect().persist(DeploymentEnded.newBuilder().setInstanceId(id).setOk(ok)
                .setError(ok ? "" : p.message()).setCopyMs(p.copyMs()).setDevirtMs(p.devirtMs()).build());
    }

    private void adopt(String id, Vm vm, DeviceCapture devices) {
        running.put(id, new Running(vm, devices));
        ActorRef<Command> self = ctx.getSelf();
        vm.result().thenAccept(r -> self.tell(new VmEnded(id, r)));
    }

    private Effect<GeneratedMessage, HostState> stop(HostState state, StopInstance s) {
        Running run = running.remove(s.getInstanceId());
        if (run == null) {
            reply(s.getReplyTo(), StopReply.newBuilder().setInstanceId(s.getInstanceId()).setOk(false)
                    .setError("instance " + s.getInstanceId() + " does not run on " + hostName).build());
            return Effect().none();
        }
        run.vm().close();
        deployments.remove(s.getInstanceId());
        return Effect().persist(InstanceStopped.newBuilder().setInstanceId(s.getInstanceId()).setReason("stopped by request").build())
                .thenRun(x -> reply(s.getReplyTo(), StopReply.newBuilder().setInstanceId(s.getInstanceId()).setOk(true).build()));
    }

    private Effect<GeneratedMessage, HostState> onVmEnded(HostState state, VmEnded e) {
        Running run = running.get(e.instanceId());
        InstanceRecord rec = state.instances().get(e.instanceId());
        if (run == null || run.vm().result().getNow(null) != e.result() || rec == null
                || rec.status() != InstanceStatus.RUNNING) {
            return Effect().none();
        }
        running.remove(e.instanceId());
        run.vm().close();
        deployments.remove(e.instanceId());
        return Effect().persist(InstanceStopped.newBuilder().setInstanceId(e.instanceId())
                .setReason(e.result().describe()).build());
    }

    private Effect<GeneratedMessage, HostState> migrateOut(HostState state, MigrateInstance mi) {
        InstanceRecord rec = state.instances().get(mi.getInstanceId());
        Running run = running.get(mi.getInstanceId());
        String refusal = null;
        if (rec == null || run == null) {
            refusal = "instance " + mi.getInstanceId() + " does not run on " + hostName;
        } else if (rec.status() != InstanceStatus.RUNNING) {
            refusal = "instance " + mi.getInstanceId() + " is " + rec.status() + " (migration " + rec.migrationId() + ")";
        } else if (checkpointing.contains(mi.getInstanceId())) {
            refusal = "instance " + mi.getInstanceId() + " is being checkpointed; try again when it is written";
        } else if (deployments.containsKey(mi.getInstanceId())) {
            refusal = "instance " + mi.getInstanceId() + " has a local disk (deployed from image "
                    + deployments.get(mi.getInstanceId()).spec().image() + "); migrating disks is not supported yet";
        } else if (mi.getTargetRef().equals(resolver.toSerializationFormat(gateway))) {
            refusal = "instance " + mi.getInstanceId() + " already runs on " + hostName;
        }
        if (refusal != null) {
            reply(mi.getReplyTo(), MigrationDone.newBuilder().setMigrationId(mi.getMigrationId()).setOk(false)
                    .setError(refusal).build());
            return Effect().none();
        }
        ActorRef<Command> self = ctx.getSelf();
        MigrationSource source = new MigrationSource(link(), mi, rec.guest(), rec.args(), rec.epoch(), run.vm(),
                run.devices(), o -> self.tell(new OutgoingEnded(o)));
        outgoing.put(mi.getMigrationId(), source);
        return Effect().persist(MigrationOutStarted.newBuilder().setMigrationId(mi.getMigrationId())
                        .setInstanceId(mi.getInstanceId()).setDestinationHost(mi.getTargetRef()).build())
                .thenRun(s -> {
                    Thread t = new Thread(source, "migration-out-" + mi.getMigrationId());
                    t.setDaemon(true);
                    t.start();
                });
    }

    private void checkpoint(HostState state, CheckpointInstance c) {
        InstanceRecord rec = state.instances().get(c.getInstanceId());
        Running run = running.get(c.getInstanceId());
        String refusal = null;
        if (rec == null || run == null) {
            refusal = "instance " + c.getInstanceId() + " does not run on " + hostName;
        } else if (rec.status() != InstanceStatus.RUNNING) {
            refusal = "instance " + c.getInstanceId() + " is " + rec.status() + "; only a running instance is checkpointed";
        } else if (checkpointing.contains(c.getInstanceId())) {
            refusal = "instance " + c.getInstanceId() + " is already being checkpointed";
        } else if (c.getPath().isEmpty()) {
            refusal = "no checkpoint path given";
        }
        if (refusal != null) {
            reply(c.getReplyTo(), CheckpointReply.newBuilder().setInstanceId(c.getInstanceId()).setHost(hostName)
                    .setOk(false).setError(refusal).build());
            return;
        }
        checkpointing.add(c.getInstanceId());
        DeploymentRecord deployed = state.deployments().get(c.getInstanceId());
        java.nio.file.Path disk = deployed == null ? null : java.nio.file.Path.of(deployed.diskPath());
        ActorRef<Command> self = ctx.getSelf();
        workers.execute(() -> {
            try {
                reply(c.getReplyTo(), Snapshots.checkpoint(hostName, rec.id(), rec.epoch(), rec.guest(), run.vm(),
                        run.devices(), disk, java.nio.file.Path.of(c.getPath())));
            } finally {
                self.tell(new CheckpointEnded(c.getInstanceId()));
            }
        });
    }

    private void restore(HostState state, RestoreInstance r) {
        RestoreReply.Builder reply = RestoreReply.newBuilder().setInstanceId(r.getInstanceId()).setHost(hostName)
                .setEpoch(r.getEpoch());
        InstanceRecord rec = state.instances().get(r.getInstanceId());
        if (rec != null && rec.status() == InstanceStatus.RUNNING && rec.epoch() == r.getEpoch()
                && running.containsKey(r.getInstanceId())) {
            reply(r.getReplyTo(), reply.setOk(true).build());
            return;
        }
        String refusal = null;
        if (rec != null && rec.status().occupiesMemory() || restoring.containsKey(r.getInstanceId())) {
            refusal = "instance " + r.getInstanceId() + " already exists on " + hostName;
        } else if (rec != null && rec.epoch() >= r.getEpoch()) {
            refusal = "instance " + r.getInstanceId() + " ran on " + hostName + " at epoch " + rec.epoch()
                    + "; a restore at epoch " + r.getEpoch() + " is stale";
        }
        long memory = 0;
        if (refusal == null) {
            try {
                var meta = Snapshots.meta(java.nio.file.Path.of(r.getPath()));
                memory = meta.memorySize();
                refusal = refuseRoom(state, memory);
                if (refusal == null && !state.deployments().containsKey(r.getInstanceId())) {
                    refusal = Snapshots.refusePartialDisk(r.getInstanceId(), hostName, meta);
                }
            } catch (java.io.IOException | RuntimeException e) {
                refusal = "cannot read checkpoint " + r.getPath() + ": " + e.getMessage();
            }
        }
        if (refusal != null) {
            reply(r.getReplyTo(), reply.setOk(false).setError(refusal).build());
            return;
        }
        restoring.put(r.getInstanceId(), memory);
        ActorRef<Command> self = ctx.getSelf();
        // an instance deployed here keeps its local disk: the restored VM gets it (streamed on if unfinished)
        DeploymentRecord deployed = state.deployments().get(r.getInstanceId());
        java.nio.file.Path disk = deployed == null ? null : java.nio.file.Path.of(deployed.diskPath());
        workers.execute(() -> {
            try {
                self.tell(new RestoreBuilt(r, Snapshots.restore(java.nio.file.Path.of(r.getPath()), disk), null));
            } catch (java.io.IOException | RuntimeException e) {
                self.tell(new RestoreBuilt(r, null, "restore of " + r.getInstanceId() + " from " + r.getPath()
                        + " on " + hostName + " failed: " + e.getMessage()));
            }
        });
    }

    private Effect<GeneratedMessage, HostState> onRestoreBuilt(HostState state, RestoreBuilt b) {
        RestoreInstance r = b.request();
        restoring.remove(r.getInstanceId());
        RestoreReply.Builder reply = RestoreReply.newBuilder().setInstanceId(r.getInstanceId()).setHost(hostName)
                .setEpoch(r.getEpoch());
        if (b.error() != null) {
            reply(r.getReplyTo(), reply.setOk(false).setError(b.error()).build());
            return Effect().none();
        }
        Vm vm = b.restored().vm();
        var meta = b.restored().meta();
        DeploymentRecord deployed = state.deployments().get(r.getInstanceId());
        boolean resume = deployed != null && !(deployed.ended() && deployed.ok());
        Deployment resumed = null;
        try {
            if (resume) {
                InstanceRecord known = state.instances().get(r.getInstanceId());
                java.nio.file.Path disk = java.nio.file.Path.of(deployed.diskPath());
                ActorRef<Command> self = ctx.getSelf();
                resumed = Deployment.resume(disk.getParent(), new Deployment.Spec(r.getInstanceId(), meta.guestName(),
                                meta.memorySize(), known == null ? Map.of() : known.args(), deployed.image(),
                                deployed.imageServer(), 0), dev.ferry.storage.stream.StreamingDisk.Options.defaults(),
                        vm, done -> self.tell(new DeploymentFinished(done)));
            } else {
                vm.start();
            }
        } catch (DeploymentException | RuntimeException e) {
            vm.close();
            reply(r.getReplyTo(), reply.setOk(false).setError(resume ? "restore of " + r.getInstanceId() + " on "
                    + hostName + ": resuming the deployment of its disk failed: " + e.getMessage()
                    : "restored VM did not start: " + e.getMessage()).build());
            return Effect().none();
        }
        adopt(r.getInstanceId(), vm, b.restored().devices());
        interrupted.remove(r.getInstanceId());
        List<GeneratedMessage> events = new ArrayList<>();
        events.add(InstanceRestored.newBuilder().setInstanceId(r.getInstanceId()).setGuest(meta.guestName())
                .setMemoryBytes(meta.memorySize()).setEpoch(r.getEpoch()).setCheckpoint(r.getPath()).build());
        if (resumed != null) {
            deployments.put(r.getInstanceId(), resumed);
            events.add(DeploymentStarted.newBuilder().setInstanceId(r.getInstanceId()).setImage(deployed.image())
                    .setImageServer(deployed.imageServer()).setDiskPath(deployed.diskPath())
                    .setTotalBytes(deployed.totalBytes()).build());
        }
        return Effect().persist(events).thenRun(x -> reply(r.getReplyTo(), reply.setOk(true).build()));
    }

    /** The registry assigns the instance elsewhere, or at a newer epoch: stop it here. */
    private Effect<GeneratedMessage, HostState> fence(HostState state, FenceInstance f) {
        InstanceRecord rec = state.instances().get(f.getInstanceId());
        Running run = running.get(f.getInstanceId());
        if (rec == null || run == null || rec.status() != InstanceStatus.RUNNING) {
            return Effect().none();
        }
        boolean stale = rec.epoch() < f.getEpoch() || (!f.getOwnerHost().equals(hostName) && rec.epoch() <= f.getEpoch());
        if (!stale) {
            return Effect().none();
        }
        running.remove(f.getInstanceId());
        run.vm().close();
        deployments.remove(f.getInstanceId());
        String why = "fenced: the registry assigns it to " + f.getOwnerHost() + " at epoch " + f.getEpoch()
                + " (this host ran epoch " + rec.epoch() + ")" + (f.getReason().isEmpty() ? "" : "; " + f.getReason());
        ctx.getLog().warn("stopped {}: {}", f.getInstanceId(), why);
        return Effect().persist(InstanceStopped.newBuilder().setInstanceId(f.getInstanceId()).setReason(why).build());
    }

    private Effect<GeneratedMessage, HostState> onOutgoingEnded(HostState state, OutgoingEnded e) {
        outgoing.remove(e.outcome().migrationId());
        if (e.outcome().committed()) {
            Running run = running.remove(e.outcome().instanceId());
            if (run != null) {
                run.vm().close();
            }
        }
        return Effect().none();
    }

    private Effect<GeneratedMessage, HostState> migrateIn(HostState state, MigrationOffer o) {
        String refusal = null;
        if (o.getVersion().getMajor() != ProtocolVersions.MAJOR) {
            refusal = "host " + hostName + " speaks migration protocol " + ProtocolVersions.MAJOR + "."
                    + ProtocolVersions.MINOR + "; the source speaks " + o.getVersion().getMajor() + "."
                    + o.getVersion().getMinor();
        } else if (state.instances().containsKey(o.getInstanceId())
                && state.instances().get(o.getInstanceId()).status().occupiesMemory()) {
            refusal = "instance " + o.getInstanceId() + " already exists on " + hostName;
        } else {
            refusal = refuseRoom(state, o.getMemoryBytes());
        }
        if (refusal != null) {
            reply(o.getSourceRef(), MigrationReject.newBuilder().setMigrationId(o.getMigrationId()).setReason(refusal).build());
            return Effect().none();
        }
        return Effect().persist(MigrationInStarted.newBuilder().setMigrationId(o.getMigrationId())
                        .setInstanceId(o.getInstanceId()).setGuest(o.getGuest()).setMemoryBytes(o.getMemoryBytes())
                        .setSourceHost(o.getSourceHost()).putAllArgs(o.getArgsMap()).build())
                .thenRun(s -> openIncoming(o));
    }

    private void openIncoming(MigrationOffer o) {
        ActorRef<Command> self = ctx.getSelf();
        try {
            MigrationDestination d = new MigrationDestination(link(), o, new ConsoleOutput(),
                    a -> self.tell(new Arrived(a)), id -> self.tell(new Discarded(id)));
            incoming.put(o.getMigrationId(), d);
            reply(o.getSourceRef(), MigrationAccept.newBuilder().setMigrationId(o.getMigrationId()).setHost(d.host())
                    .setPort(d.port()).setDestinationHost(hostName)
                    .addCompressions(dev.ferry.protocol.v1.PageCompression.PAGE_COMPRESSION_LZ4)
                    .setDestinationRef(resolver.toSerializationFormat(gateway)).build());
        } catch (MigrationException | RuntimeException e) {
            String why = e.getMessage();
            reply(o.getSourceRef(), MigrationReject.newBuilder().setMigrationId(o.getMigrationId()).setReason(why).build());
            workers.execute(() -> {
                try {
                    link().persist(MigrationInAborted.newBuilder().setMigrationId(o.getMigrationId())
                            .setInstanceId(o.getInstanceId()).setReason(why).build());
                } catch (MigrationException ignored) {
                    // the agent is stopping; recovery discards the migration
                }
            });
        }
    }

    private Effect<GeneratedMessage, HostState> onArrived(HostState state, Arrived a) {
        incoming.values().removeIf(d -> d.instanceId().equals(a.arrival().instanceId()));
        adopt(a.arrival().instanceId(), a.arrival().vm(), a.arrival().devices());
        return Effect().none();
    }

    private Effect<GeneratedMessage, HostState> onRecoveryDone(HostState state, RecoveryDone r) {
        state.deployments().forEach((id, d) -> {
            if (!deployments.containsKey(id) && !(d.ended() && d.ok())) {
                interrupted.put(id, DeploymentReports.Stored.of(java.nio.file.Path.of(d.diskPath())));
            }
        });
        List<GeneratedMessage> events = new ArrayList<>();
        for (InstanceRecord rec : state.instances().values()) {
            if (running.containsKey(rec.id())) {
                continue;
            }
            switch (rec.status()) {
                case RUNNING, MIGRATING_OUT -> events.add(InstanceLost.newBuilder().setInstanceId(rec.id())
                        .setReason("its VM died with host " + hostName + "'s previous process"
                                + (rec.status() == InstanceStatus.MIGRATING_OUT ? " during migration " + rec.migrationId() : ""))
                        .build());
                case MIGRATING_IN -> events.add(MigrationInAborted.newBuilder().setMigrationId(rec.migrationId())
                        .setInstanceId(rec.id()).setReason("host " + hostName + " restarted before the commit").build());
                default -> { }
            }
        }
        if (events.isEmpty()) {
            return Effect().none();
        }
        ctx.getLog().info("recovered {} instances; {} changed state after the restart", state.instances().size(), events.size());
        return Effect().persist(events);
    }

    private void shutDown() {
        closeOnShutdown.cancel();
        closeVms("the agent stopped");
        workers.shutdownNow();
    }

    /** Closes every VM of this host (their records stay; a restarted agent reports them lost). */
    private void closeVms(String reason) {
        if (!running.isEmpty()) {
            ctx.getLog().warn("{} stops: closing the VMs of {} ({})", hostName, running.keySet(), reason);
        }
        incoming.values().forEach(MigrationDestination::close);
        incoming.clear();
        running.values().forEach(r -> r.vm().close());
        running.clear();
    }

    private AgentLink link() {
        ActorRef<Command> self = ctx.getSelf();
        ActorSystem<?> system = ctx.getSystem();
        String selfRef = resolver.toSerializationFormat(gateway);
        return new AgentLink() {
            @Override
            public void persist(GeneratedMessage event) throws MigrationException {
                try {
                    AskPattern.<Command, Done>ask(self, replyTo -> new PersistEvent(event, replyTo),
                            Duration.ofSeconds(30), system.scheduler()).toCompletableFuture().get();
                } catch (Exception e) {
                    throw new MigrationException("cannot persist " + event.getClass().getSimpleName() + ": " + e);
                }
            }

            @Override
            public void tell(String ref, GeneratedMessage message) {
                reply(ref, message);
            }

            @Override
            public String selfRef() {
                return selfRef;
            }

            @Override
            public String hostName() {
                return hostName;
            }

            @Override
            public ActorSystem<?> system() {
                return system;
            }

            @Override
            public SwitchoverCost switchoverCost() {
                return switchoverCost;
            }
        };
    }
}
