package dev.ferry.orchestrator.registry;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.orchestrator.HostDirectory;
import dev.ferry.orchestrator.Placement;
import dev.ferry.protocol.v1.CheckpointInstance;
import dev.ferry.protocol.v1.CheckpointRecorded;
import dev.ferry.protocol.v1.CheckpointReply;
import dev.ferry.protocol.v1.CheckpointRequest;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.FenceInstance;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.InstanceLostRecorded;
import dev.ferry.protocol.v1.RestoreInstance;
import dev.ferry.protocol.v1.RestoreReply;
import dev.ferry.protocol.v1.RestoreRequest;
import dev.ferry.protocol.v1.RestoreResult;
import dev.ferry.protocol.v1.RestoreSagaCompleted;
import dev.ferry.protocol.v1.RestoreSagaFailed;
import dev.ferry.protocol.v1.RestoreSagaStarted;
import dev.ferry.protocol.v1.StopInstance;
import dev.ferry.protocol.v1.StopReply;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.InstanceRegistered;
import dev.ferry.protocol.v1.LaunchInstance;
import dev.ferry.protocol.v1.LaunchReply;
import dev.ferry.protocol.v1.LaunchRequest;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.MigrateInstance;
import dev.ferry.protocol.v1.MigrateRequest;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationProgress;
import dev.ferry.protocol.v1.MigrationSagaCommitted;
import dev.ferry.protocol.v1.MigrationSagaRolledBack;
import dev.ferry.protocol.v1.MigrationSagaStarted;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One instance in the cluster's registry: a sharded, event-sourced entity that places and launches it, and runs its
 * migrations as a persisted saga. If the node running the saga dies, the entity restarts elsewhere from its journal
 * and, while the saga is in progress, asks both hosts until it can decide: committed if the destination runs the
 * instance at the new epoch, rolled back if the source still runs it.
 */
public final class InstanceEntity extends EventSourcedBehavior<InstanceEntity.Command, GeneratedMessage, InstanceState> {
    public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Instance");
    private static final Duration RECONCILE_EVERY = Duration.ofSeconds(2);
    private static final Duration RESTORE_STEP_LIMIT = Duration.ofSeconds(120);
    /** Observations in a row that must find the instance gone before the registry calls it lost. */
    private static final int LOST_AFTER = 2;
    /**
     * Fault injection for the reliability tests: {@code -Dferry.fault.orchestrator-halt=after-saga-started} halts
     * this JVM right after a migration saga is persisted (before the source hears of it);
     * {@code before-saga-decision} halts it when the source's answer arrives, before the decision is persisted.
     */
    private static final String HALT = System.getProperty("ferry.fault.orchestrator-halt", "");
    public static final java.util.regex.Pattern VALID_ID = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    public sealed interface Command {}

    /** The commands that may come from another orchestrator node: serialized as protobuf ({@link InstanceCommandSerializer}). */
    public sealed interface Wire extends Command {}

    public record Launch(LaunchRequest request) implements Wire {}

    public record Migrate(MigrateRequest request) implements Wire {}

    public record Get(String replyTo) implements Wire {}

    /** A host agent's answer, through this entity's protobuf adapter. */
    record Remote(GeneratedMessage message) implements Command {}

    record Placed(LaunchRequest request, String host, java.util.List<String> features, String error) implements Command {}

    record Targeted(MigrateRequest request, String target, String error) implements Command {}

    record Reconcile() implements Command {}

    record Decided(GeneratedMessage event) implements Command {}

    public record Checkpoint(CheckpointRequest request) implements Wire {}

    public record Restore(RestoreRequest request) implements Wire {}

    /**
     * What the reconciler saw: every reachable host's instance list, and the hosts in the cluster. The entity marks
     * itself lost when its host is gone or no longer runs it, and fences copies the registry does not assign.
     */
    public record Observe(Map<String, InstanceList> lists, Set<String> present) implements Wire {}

    record RestoreTargeted(RestoreRequest request, String target, String checkpoint, String error) implements Command {}

    record RestoreStep() implements Command {}

    record RestoreTimedOut(String restoreId) implements Command {}

    private final String id;
    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    private final HostDirectory directory;
    private final ActorRefResolver resolver;
    private final ActorRef<GeneratedMessage> adapter;
    private LaunchRequest pendingLaunch;
    private String pendingLaunchHost;
    private java.util.List<String> pendingLaunchFeatures = java.util.List.of();
    private String migrationRequester = "";
    private String restoreRequester = "";
    private final Map<String, String> checkpointRequesters = new java.util.HashMap<>();
    private boolean stopConfirmed;
    private int missingObservations;
    /** This entity restarted while a migration saga was in progress: its outcome must be asked of the hosts. */
    private boolean sagaRecovered;
    private final RegistrySettings settings;

    public static Behavior<Command> create(String id, HostDirectory directory, RegistrySettings settings) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new InstanceEntity(id, ctx, timers, directory,
                settings)));
    }

    private InstanceEntity(String id, ActorContext<Command> ctx, TimerScheduler<Command> timers, HostDirectory directory,
                           RegistrySettings settings) {
        super(PersistenceId.of(TYPE_KEY.name(), id));
        this.id = id;
        this.ctx = ctx;
        this.timers = timers;
        this.directory = directory;
        this.settings = settings;
        this.resolver = ActorRefResolver.get(ctx.getSystem());
        this.adapter = ctx.messageAdapter(GeneratedMessage.class, Remote::new);
    }

    @Override
    public InstanceState emptyState() {
        return InstanceState.empty(id);
    }

    @Override
    public EventHandler<InstanceState, GeneratedMessage> eventHandler() {
        return InstanceState::apply;
    }

    @Override
    public SignalHandler<InstanceState> signalHandler() {
        return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
            if (state.phase() != Phase.NEW) {
                ctx.getLog().info("instance {} recovered on {}: {} on {} at epoch {}", id,
                        ctx.getSystem().address(), state.phase(), state.host(), state.epoch());
            }
            if (state.phase() == Phase.MIGRATING) {
                sagaRecovered = true;
                timers.startTimerWithFixedDelay(new Reconcile(), RECONCILE_EVERY);
            }
            if (state.phase() == Phase.RESTORING) {
                // The node that ran this restore died: redo its steps, each of which is idempotent.
                ctx.getSelf().tell(new RestoreStep());
            }
        }).build();
    }

    private void reply(String ref, GeneratedMessage m) {
        if (ref != null && !ref.isEmpty()) {
            ActorRef<GeneratedMessage> r = resolver.resolveActorRef(ref);
            r.tell(m);
        }
    }

    @Override
    public CommandHandler<Command, GeneratedMessage, InstanceState> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Launch.class, this::onLaunch)
                .onCommand(Placed.class, this::onPlaced)
                .onCommand(Migrate.class, this::onMigrate)
                .onCommand(Targeted.class, this::onTargeted)
                .onCommand(Get.class, (s, g) -> {
                    reply(g.replyTo(), s.toProto());
                    return Effect().none();
                })
                .onCommand(Remote.class, this::onRemote)
                .onCommand(Reconcile.class, this::onReconcile)
                .onCommand(Checkpoint.class, this::onCheckpoint)
                .onCommand(Restore.class, this::onRestore)
                .onCommand(RestoreTargeted.class, this::onRestoreTargeted)
                .onCommand(RestoreStep.class, this::onRestoreStep)
                .onCommand(RestoreTimedOut.class, (s, t) -> s.phase() == Phase.RESTORING && s.saga().id().equals(t.restoreId())
                        ? endRestore(s, false, "host " + s.saga().target() + " did not answer within " + RESTORE_STEP_LIMIT, null)
                        : Effect().none())
                .onCommand(Observe.class, this::onObserve)
                .onCommand(Decided.class, this::onDecided)
                .build();
    }

    private static void haltIf(String point) {
        if (HALT.equals(point)) {
            System.err.println("ferry: fault injection: halting at " + point);
            Runtime.getRuntime().halt(137);
        }
    }

    private static String message(Throwable t) {
        return t.getCause() != null && t instanceof java.util.concurrent.CompletionException ? t.getCause().getMessage()
                : t.getMessage();
    }

    private LaunchResult.Builder launchResult() {
        return LaunchResult.newBuilder().setInstanceId(id);
    }

    private Effect<GeneratedMessage, InstanceState> onLaunch(InstanceState s, Launch l) {
        LaunchRequest r = l.request();
        if (!VALID_ID.matcher(id).matches()) {
            reply(r.getReplyTo(), launchResult().setOk(false).setError("bad instance id '" + id + "': use 1 to 63"
                    + " letters, digits, '.', '_' or '-', starting with a letter or digit").build());
            return Effect().none();
        }
        if (s.phase() != Phase.NEW) {
            reply(r.getReplyTo(), launchResult().setOk(false).setError("instance " + id + " already exists (on "
                    + s.host() + ")").build());
            return Effect().none();
        }
        if (pendingLaunch != null) {
            reply(r.getReplyTo(), launchResult().setOk(false).setError("instance " + id + " is being launched").build());
            return Effect().none();
        }
        pendingLaunch = r;
        ctx.pipeToSelf(Placement.chooseHost(directory, r.getHost(), r.getMemoryBytes(), Optional.empty(), java.util.List.of()),
                (host, err) -> err != null ? new Placed(r, null, null, message(err))
                        : new Placed(r, host.getHost(), host.getCpuFeaturesList(), null));
        return Effect().none();
    }

    private Effect<GeneratedMessage, InstanceState> onPlaced(InstanceState s, Placed p) {
        if (p.error() != null) {
            pendingLaunch = null;
            reply(p.request().getReplyTo(), launchResult().setOk(false).setError(p.error()).build());
            return Effect().none();
        }
        pendingLaunchHost = p.host();
        pendingLaunchFeatures = p.features();
        LaunchRequest r = p.request();
        directory.host(p.host()).ifPresent(agent -> agent.tell(LaunchInstance.newBuilder().setInstanceId(id)
                .setGuest(r.getGuest()).setMemoryBytes(r.getMemoryBytes()).putAllArgs(r.getArgsMap())
                .setImage(r.getImage()).setImageServer(r.getImageServer()).setCopyRateLimit(r.getCopyRateLimit())
                .setReplyTo(resolver.toSerializationFormat(adapter)).build()));
        return Effect().none();
    }

    private Effect<GeneratedMessage, InstanceState> onMigrate(InstanceState s, Migrate m) {
        MigrateRequest r = m.request();
        String refusal = switch (s.phase()) {
            case NEW -> "unknown instance " + id;
            case MIGRATING -> "instance " + id + " is already migrating (" + s.migrationId() + " to " + s.migrationTarget() + ")";
            case RESTORING -> "instance " + id + " is being restored onto " + s.saga().target();
            case LOST -> "instance " + id + " is lost (" + s.lostReason() + "); restore it from a checkpoint";
            case RUNNING -> r.getTargetHost().equals(s.host()) ? "instance " + id + " already runs on " + s.host() : null;
        };
        if (refusal != null) {
            reply(r.getReplyTo(), MigrationDone.newBuilder().setOk(false).setError(refusal).build());
            return Effect().none();
        }
        ctx.pipeToSelf(Placement.chooseHost(directory, r.getTargetHost(), s.memory(), Optional.of(s.host()),
                        s.cpuFeatures()).thenApply(InstanceList::getHost),
                (host, err) -> err != null ? new Targeted(r, null, message(err)) : new Targeted(r, host, null));
        return Effect().none();
    }

    private Effect<GeneratedMessage, InstanceState> onTargeted(InstanceState s, Targeted t) {
        MigrateRequest r = t.request();
        if (t.error() != null || s.phase() != Phase.RUNNING) {
            reply(r.getReplyTo(), MigrationDone.newBuilder().setOk(false)
                    .setError(t.error() != null ? t.error() : "instance " + id + " is " + s.phase()).build());
            return Effect().none();
        }
        Optional<ActorRef<GeneratedMessage>> source = directory.host(s.host());
        Optional<ActorRef<GeneratedMessage>> target = directory.host(t.target());
        if (source.isEmpty() || target.isEmpty()) {
            reply(r.getReplyTo(), MigrationDone.newBuilder().setOk(false)
                    .setError("host " + (source.isEmpty() ? s.host() : t.target()) + " is not reachable").build());
            return Effect().none();
        }
        String migrationId = UUID.randomUUID().toString();
        migrationRequester = r.getReplyTo();
        sagaRecovered = false;
        timers.startTimerWithFixedDelay(new Reconcile(), RECONCILE_EVERY);
        return Effect().persist(MigrationSagaStarted.newBuilder().setMigrationId(migrationId).setSourceHost(s.host())
                        .setTargetHost(t.target()).setEpoch(s.epoch()).build())
                .thenRun(x -> haltIf("after-saga-started"))
                .thenRun(x -> source.get().tell(MigrateInstance.newBuilder().setMigrationId(migrationId)
                        .setInstanceId(id).setTargetRef(directory.ref(target.get()))
                        .setDowntimeLimitMicros(r.getDowntimeLimitMicros())
                        .setReplyTo(resolver.toSerializationFormat(adapter)).build()));
    }

    private Effect<GeneratedMessage, InstanceState> onRemote(InstanceState s, Remote r) {
        GeneratedMessage m = r.message();
        if (m instanceof LaunchReply l && pendingLaunch != null) {
            LaunchRequest req = pendingLaunch;
            pendingLaunch = null;
            if (!l.getOk()) {
                reply(req.getReplyTo(), launchResult().setOk(false).setError(l.getError()).build());
                return Effect().none();
            }
            return Effect().persist(InstanceRegistered.newBuilder().setInstanceId(id).setGuest(req.getGuest())
                            .setMemoryBytes(req.getMemoryBytes()).putAllArgs(req.getArgsMap()).setHost(pendingLaunchHost)
                            .setEpoch(1).addAllCpuFeatures(pendingLaunchFeatures).build())
                    .thenRun(x -> reply(req.getReplyTo(), launchResult().setOk(true).setHost(pendingLaunchHost).build()));
        }
        if (m instanceof MigrationProgress p) {
            reply(migrationRequester, p);
            return Effect().none();
        }
        if (m instanceof CheckpointReply c) {
            return onCheckpointReply(s, c);
        }
        if (m instanceof StopReply stop && s.phase() == Phase.RESTORING && !stopConfirmed) {
            boolean gone = stop.getOk() || stop.getError().contains("does not run");
            if (!gone) {
                return endRestore(s, false, "could not stop it on " + s.saga().stopHost() + ": " + stop.getError(), null);
            }
            stopConfirmed = true;
            ctx.getSelf().tell(new RestoreStep());
            return Effect().none();
        }
        if (m instanceof RestoreReply rr && s.phase() == Phase.RESTORING && rr.getEpoch() == s.saga().epoch()) {
            return rr.getOk() ? endRestore(s, true, "", rr.getHost())
                    : endRestore(s, false, rr.getError(), null);
        }
        if (m instanceof MigrationDone d && s.phase() == Phase.MIGRATING && d.getMigrationId().equals(s.migrationId())) {
            haltIf("before-saga-decision");
            GeneratedMessage event = d.getOk()
                    ? MigrationSagaCommitted.newBuilder().setMigrationId(s.migrationId()).setTargetHost(s.migrationTarget())
                            .setEpoch(s.epoch() + 1).build()
                    : MigrationSagaRolledBack.newBuilder().setMigrationId(s.migrationId()).setReason(d.getError()).build();
            String requester = migrationRequester;
            return Effect().persist(event).thenRun(x -> reply(requester, d));
        }
        return Effect().none();
    }

    /**
     * While a saga is in progress: if this entity restarted mid-saga, or the source host left the cluster (so its
     * answer will never come), ask the hosts where the instance is, and decide when they say.
     */
    private Effect<GeneratedMessage, InstanceState> onReconcile(InstanceState s, Reconcile r) {
        if (s.phase() != Phase.MIGRATING) {
            timers.cancel(new Reconcile());
            return Effect().none();
        }
        Optional<ActorRef<GeneratedMessage>> target = directory.host(s.migrationTarget());
        Optional<ActorRef<GeneratedMessage>> source = directory.host(s.host());
        // Gone means removed from the cluster, not merely unreachable: a host cut off still runs the instance until
        // the split-brain resolver downs it (on its side too, which stops its VMs).
        Set<String> present = directory.present();
        boolean sourceGone = !present.contains(s.host());
        boolean targetGone = !present.contains(s.migrationTarget());
        boolean mustDecide = sagaRecovered || sourceGone;
        var targetList = target.map(directory::list);
        var sourceList = source.map(directory::list);
        ctx.pipeToSelf(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    // A source that died and came back under the same name before the cluster removed it is present
                    // again, but its journal says the VM died with its previous process: its answer will never come.
                    InstanceList src = get(sourceList);
                    boolean sourceLostIt = src != null && src.getInstancesList().stream().anyMatch(i ->
                            i.getInstanceId().equals(id) && (i.getState().equals("LOST") || i.getState().equals("STOPPED")));
                    if (!mustDecide && !sourceLostIt) {
                        return null;
                    }
                    return decide(s, get(targetList), src, sourceGone || sourceLostIt, sourceGone, targetGone);
                }),
                (event, err) -> event == null || err != null ? new Decided(null) : new Decided(event));
        return Effect().none();
    }

    private Effect<GeneratedMessage, InstanceState> onDecided(InstanceState s, Decided d) {
        if (d.event() == null || s.phase() != Phase.MIGRATING) {
            return Effect().none();
        }
        String requester = migrationRequester;
        MigrationDone.Builder done = MigrationDone.newBuilder().setMigrationId(s.migrationId());
        if (d.event() instanceof MigrationSagaCommitted c) {
            done.setOk(true).setDestinationHost(c.getTargetHost());
        } else if (d.event() instanceof MigrationSagaRolledBack b) {
            done.setOk(false).setError(b.getReason());
        } else if (d.event() instanceof InstanceLostRecorded l) {
            done.setOk(false).setError(l.getReason());
        }
        return Effect().persist(d.event()).thenRun(x -> {
            timers.cancel(new Reconcile());
            reply(requester, done.build());
        });
    }

    private Effect<GeneratedMessage, InstanceState> onCheckpoint(InstanceState s, Checkpoint c) {
        CheckpointRequest r = c.request();
        String refusal = switch (s.phase()) {
            case NEW -> "unknown instance " + id;
            case RUNNING -> directory.host(s.host()).isEmpty() ? "host " + s.host() + " is not reachable" : null;
            default -> "instance " + id + " is " + s.phase() + "; only a running instance is checkpointed";
        };
        if (refusal != null) {
            reply(r.getReplyTo(), CheckpointResult.newBuilder().setInstanceId(id).setOk(false).setError(refusal).build());
            return Effect().none();
        }
        String path = settings.checkpointPath(id, s.epoch()).toString();
        checkpointRequesters.put(path, r.getReplyTo());
        directory.host(s.host()).get().tell(CheckpointInstance.newBuilder().setInstanceId(id).setPath(path)
                .setReplyTo(resolver.toSerializationFormat(adapter)).build());
        return Effect().none();
    }

    private Effect<GeneratedMessage, InstanceState> onCheckpointReply(InstanceState s, CheckpointReply c) {
        String requester = checkpointRequesters.remove(c.getPath());
        CheckpointResult result = CheckpointResult.newBuilder().setInstanceId(id).setOk(c.getOk()).setError(c.getError())
                .setPath(c.getPath()).setBytes(c.getBytes()).setPauseMicros(c.getPauseMicros())
                .setTotalMicros(c.getTotalMicros()).setHost(c.getHost()).setConsoleTail(c.getConsoleTail()).build();
        if (!c.getOk() || s.phase() == Phase.NEW) {
            reply(requester, result);
            return Effect().none();
        }
        return Effect().persist(CheckpointRecorded.newBuilder().setPath(c.getPath()).setEpoch(c.getEpoch())
                        .setTakenAtMillis(System.currentTimeMillis()).setHost(c.getHost()).build())
                .thenRun(x -> reply(requester, result));
    }

    private Effect<GeneratedMessage, InstanceState> onRestore(InstanceState s, Restore c) {
        RestoreRequest r = c.request();
        String checkpoint = r.getFrom().isEmpty() ? s.lastCheckpoint() : r.getFrom();
        String refusal = switch (s.phase()) {
            case NEW -> "unknown instance " + id;
            case MIGRATING -> "instance " + id + " is migrating (" + s.migrationId() + "); restore it when that ends";
            case RESTORING -> "instance " + id + " is already being restored onto " + s.saga().target();
            case RUNNING, LOST -> checkpoint.isEmpty() ? "instance " + id + " has no checkpoint; take one with"
                    + " `ferry checkpoint " + id + "` or name a file with --from" : null;
        };
        if (refusal != null) {
            reply(r.getReplyTo(), RestoreResult.newBuilder().setInstanceId(id).setOk(false).setError(refusal).build());
            return Effect().none();
        }
        boolean inPlace = s.phase() == Phase.RUNNING && (r.getHost().isEmpty() || r.getHost().equals(s.host()));
        if (inPlace) {
            ctx.getSelf().tell(new RestoreTargeted(r, s.host(), checkpoint, null));
        } else {
            ctx.pipeToSelf(Placement.chooseHost(directory, r.getHost(), s.memory(), Optional.empty(), s.cpuFeatures())
                            .thenApply(InstanceList::getHost),
                    (host, err) -> err != null ? new RestoreTargeted(r, null, checkpoint, message(err))
                            : new RestoreTargeted(r, host, checkpoint, null));
        }
        return Effect().none();
    }

    private Effect<GeneratedMessage, InstanceState> onRestoreTargeted(InstanceState s, RestoreTargeted t) {
        RestoreRequest r = t.request();
        if (t.error() != null || (s.phase() != Phase.RUNNING && s.phase() != Phase.LOST)) {
            reply(r.getReplyTo(), RestoreResult.newBuilder().setInstanceId(id).setOk(false)
                    .setError(t.error() != null ? t.error() : "instance " + id + " is " + s.phase()).build());
            return Effect().none();
        }
        restoreRequester = r.getReplyTo();
        stopConfirmed = false;
        return Effect().persist(RestoreSagaStarted.newBuilder().setRestoreId(UUID.randomUUID().toString())
                        .setTargetHost(t.target()).setCheckpoint(t.checkpoint()).setEpoch(s.epoch() + 1)
                        .setStopHost(s.phase() == Phase.RUNNING ? s.host() : "").build())
                .thenRun(x -> ctx.getSelf().tell(new RestoreStep()));
    }

    /** The restore saga's next step: stop the old copy (if it ran), then start the checkpoint on the target. */
    private Effect<GeneratedMessage, InstanceState> onRestoreStep(InstanceState s, RestoreStep step) {
        if (s.phase() != Phase.RESTORING) {
            return Effect().none();
        }
        InstanceState.Saga saga = s.saga();
        timers.startSingleTimer("restore-step", new RestoreTimedOut(saga.id()), RESTORE_STEP_LIMIT);
        String self = resolver.toSerializationFormat(adapter);
        if (!saga.stopHost().isEmpty() && !stopConfirmed) {
            Optional<ActorRef<GeneratedMessage>> old = directory.host(saga.stopHost());
            if (old.isPresent()) {
                old.get().tell(StopInstance.newBuilder().setInstanceId(id).setReplyTo(self).build());
                return Effect().none();
            }
            if (directory.present().contains(saga.stopHost())) {
                // Unreachable but not yet removed: cut off, it may still run the instance.
                return endRestore(s, false, "host " + saga.stopHost() + " is unreachable and may still run " + id
                        + "; restore it once the cluster has decided about that host", null);
            }
            // The host left the cluster: the split-brain resolver downed it, and its VMs ended with it.
            stopConfirmed = true;
        }
        Optional<ActorRef<GeneratedMessage>> target = directory.host(saga.target());
        if (target.isEmpty()) {
            return endRestore(s, false, "host " + saga.target() + " is not reachable", null);
        }
        target.get().tell(RestoreInstance.newBuilder().setInstanceId(id).setPath(saga.checkpoint())
                .setEpoch(saga.epoch()).setReplyTo(self).build());
        return Effect().none();
    }

    private Effect<GeneratedMessage, InstanceState> endRestore(InstanceState s, boolean ok, String error, String host) {
        timers.cancel("restore-step");
        InstanceState.Saga saga = s.saga();
        boolean untouched = !saga.stopHost().isEmpty() && !stopConfirmed;
        GeneratedMessage event = ok
                ? RestoreSagaCompleted.newBuilder().setRestoreId(saga.id()).setHost(host).setEpoch(saga.epoch()).build()
                : RestoreSagaFailed.newBuilder().setRestoreId(saga.id()).setReason(error).setUntouched(untouched).build();
        String requester = restoreRequester;
        restoreRequester = "";
        RestoreResult result = RestoreResult.newBuilder().setInstanceId(id).setOk(ok).setError(error)
                .setHost(ok ? host : "").setEpoch(saga.epoch()).setCheckpoint(saga.checkpoint()).build();
        return Effect().persist(event).thenRun(x -> reply(requester, result));
    }

    /** The reconciler's view: mark the instance lost if its VM is gone, and stop copies the registry does not assign. */
    private Effect<GeneratedMessage, InstanceState> onObserve(InstanceState s, Observe o) {
        if (s.phase() == Phase.RUNNING || s.phase() == Phase.LOST) {
            for (Map.Entry<String, InstanceList> h : o.lists().entrySet()) {
                for (InstanceInfo i : h.getValue().getInstancesList()) {
                    boolean assigned = s.phase() == Phase.RUNNING && h.getKey().equals(s.host()) && i.getEpoch() == s.epoch();
                    if (i.getInstanceId().equals(id) && i.getState().equals("RUNNING") && !assigned) {
                        directory.host(h.getKey()).ifPresent(a -> a.tell(FenceInstance.newBuilder().setInstanceId(id)
                                .setEpoch(s.epoch()).setOwnerHost(s.phase() == Phase.RUNNING ? s.host() : "")
                                .setReason("the registry has it " + s.phase()).build()));
                    }
                }
            }
        }
        if (s.phase() != Phase.RUNNING) {
            missingObservations = 0;
            return Effect().none();
        }
        String gone = null;
        InstanceList at = o.lists().get(s.host());
        if (!o.present().contains(s.host())) {
            gone = "host " + s.host() + " left the cluster";
        } else if (at != null) {
            Optional<InstanceInfo> mine = at.getInstancesList().stream().filter(i -> i.getInstanceId().equals(id)).findFirst();
            if (mine.isEmpty()) {
                gone = "host " + s.host() + " does not know it";
            } else if (mine.get().getState().equals("LOST") || mine.get().getState().equals("STOPPED")) {
                gone = "host " + s.host() + " reports it " + mine.get().getState();
            }
        }
        missingObservations = gone == null ? 0 : missingObservations + 1;
        if (gone == null || missingObservations < LOST_AFTER) {
            return Effect().none();
        }
        String reason = gone + (s.lastCheckpoint().isEmpty() ? "; no checkpoint to restore from"
                : "; restore from " + s.lastCheckpoint());
        ctx.getLog().warn("instance {} is lost: {}", id, reason);
        return Effect().persist(InstanceLostRecorded.newBuilder().setHost(s.host()).setReason(reason).build());
    }

    private static InstanceList get(Optional<java.util.concurrent.CompletableFuture<InstanceList>> f) {
        try {
            return f.isPresent() ? f.get().get(10, java.util.concurrent.TimeUnit.SECONDS) : null;
        } catch (Exception e) {
            return null;
        }
    }

    private GeneratedMessage decide(InstanceState s, InstanceList target, InstanceList source, boolean sourceGone,
                                    boolean sourceLeft, boolean targetGone) {
        Optional<InstanceInfo> atTarget = target == null ? Optional.empty()
                : target.getInstancesList().stream().filter(i -> i.getInstanceId().equals(id)).findFirst();
        Optional<InstanceInfo> atSource = source == null ? Optional.empty()
                : source.getInstancesList().stream().filter(i -> i.getInstanceId().equals(id)).findFirst();
        if (atTarget.isPresent() && atTarget.get().getState().equals("RUNNING") && atTarget.get().getEpoch() > s.epoch()) {
            return MigrationSagaCommitted.newBuilder().setMigrationId(s.migrationId()).setTargetHost(s.migrationTarget())
                    .setEpoch(atTarget.get().getEpoch()).build();
        }
        if (atSource.isPresent() && atSource.get().getState().equals("RUNNING")) {
            return MigrationSagaRolledBack.newBuilder().setMigrationId(s.migrationId())
                    .setReason("the migration ended while the orchestrator was away; the source still runs the instance").build();
        }
        boolean targetMayStillCommit = atTarget.isPresent() && atTarget.get().getState().equals("MIGRATING_IN");
        if (sourceGone && (targetGone || (target != null && !targetMayStillCommit))) {
            return InstanceLostRecorded.newBuilder().setHost(s.host()).setReason("host " + s.host()
                    + (sourceLeft ? " left the cluster" : " lost it (its process died)")
                    + " during migration " + s.migrationId() + " to " + s.migrationTarget() + ", which had not taken it over"
                    + (s.lastCheckpoint().isEmpty() ? "; no checkpoint to restore from" : "; restore from " + s.lastCheckpoint()))
                    .build();
        }
        return null;
    }
}
