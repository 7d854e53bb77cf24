package dev.ferry.orchestrator.registry;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.orchestrator.HostDirectory;
import dev.ferry.orchestrator.Placement;
import dev.ferry.protocol.v1.InstanceInfo;
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
import java.util.Optional;
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

    public sealed interface Command {}

    public record Launch(LaunchRequest request) implements Command {}

    public record Migrate(MigrateRequest request) implements Command {}

    public record Get(String replyTo) implements Command {}

    /** A host agent's answer, through this entity's protobuf adapter. */
    record Remote(GeneratedMessage message) implements Command {}

    record Placed(LaunchRequest request, String host, String error) implements Command {}

    record Targeted(MigrateRequest request, String target, String error) implements Command {}

    record Reconcile() implements Command {}

    record Decided(GeneratedMessage event) implements Command {}

    private final String id;
    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    private final HostDirectory directory;
    private final ActorRefResolver resolver;
    private final ActorRef<GeneratedMessage> adapter;
    private LaunchRequest pendingLaunch;
    private String pendingLaunchHost;
    private String migrationRequester = "";

    public static Behavior<Command> create(String id, HostDirectory directory) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new InstanceEntity(id, ctx, timers, directory)));
    }

    private InstanceEntity(String id, ActorContext<Command> ctx, TimerScheduler<Command> timers, HostDirectory directory) {
        super(PersistenceId.of(TYPE_KEY.name(), id));
        this.id = id;
        this.ctx = ctx;
        this.timers = timers;
        this.directory = directory;
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
            if (state.phase() == Phase.MIGRATING) {
                timers.startTimerWithFixedDelay(new Reconcile(), RECONCILE_EVERY);
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
                .onCommand(Decided.class, (s, d) -> d.event() != null && s.phase() == Phase.MIGRATING
                        ? Effect().persist(d.event()).thenRun(x -> timers.cancel(new Reconcile()))
                        : Effect().none())
                .build();
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
        ctx.pipeToSelf(Placement.choose(directory, r.getHost(), r.getMemoryBytes(), Optional.empty()),
                (host, err) -> err != null ? new Placed(r, null, message(err)) : new Placed(r, host, null));
        return Effect().none();
    }

    private Effect<GeneratedMessage, InstanceState> onPlaced(InstanceState s, Placed p) {
        if (p.error() != null) {
            pendingLaunch = null;
            reply(p.request().getReplyTo(), launchResult().setOk(false).setError(p.error()).build());
            return Effect().none();
        }
        pendingLaunchHost = p.host();
        LaunchRequest r = p.request();
        directory.host(p.host()).ifPresent(agent -> agent.tell(LaunchInstance.newBuilder().setInstanceId(id)
                .setGuest(r.getGuest()).setMemoryBytes(r.getMemoryBytes()).putAllArgs(r.getArgsMap())
                .setReplyTo(resolver.toSerializationFormat(adapter)).build()));
        return Effect().none();
    }

    private Effect<GeneratedMessage, InstanceState> onMigrate(InstanceState s, Migrate m) {
        MigrateRequest r = m.request();
        String refusal = switch (s.phase()) {
            case NEW -> "unknown instance " + id;
            case MIGRATING -> "instance " + id + " is already migrating (" + s.migrationId() + " to " + s.migrationTarget() + ")";
            case RUNNING -> r.getTargetHost().equals(s.host()) ? "instance " + id + " already runs on " + s.host() : null;
        };
        if (refusal != null) {
            reply(r.getReplyTo(), MigrationDone.newBuilder().setOk(false).setError(refusal).build());
            return Effect().none();
        }
        ctx.pipeToSelf(Placement.choose(directory, r.getTargetHost(), s.memory(), Optional.of(s.host())),
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
        return Effect().persist(MigrationSagaStarted.newBuilder().setMigrationId(migrationId).setSourceHost(s.host())
                        .setTargetHost(t.target()).setEpoch(s.epoch()).build())
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
                            .setEpoch(1).build())
                    .thenRun(x -> reply(req.getReplyTo(), launchResult().setOk(true).setHost(pendingLaunchHost).build()));
        }
        if (m instanceof MigrationProgress p) {
            reply(migrationRequester, p);
            return Effect().none();
        }
        if (m instanceof MigrationDone d && s.phase() == Phase.MIGRATING && d.getMigrationId().equals(s.migrationId())) {
            GeneratedMessage event = d.getOk()
                    ? MigrationSagaCommitted.newBuilder().setMigrationId(s.migrationId()).setTargetHost(s.migrationTarget())
                            .setEpoch(s.epoch() + 1).build()
                    : MigrationSagaRolledBack.newBuilder().setMigrationId(s.migrationId()).setReason(d.getError()).build();
            String requester = migrationRequester;
            return Effect().persist(event).thenRun(x -> reply(requester, d));
        }
        return Effect().none();
    }

    /** After a restart mid-saga: ask both hosts where the instance is, and decide when they say. */
    private Effect<GeneratedMessage, InstanceState> onReconcile(InstanceState s, Reconcile r) {
        if (s.phase() != Phase.MIGRATING) {
            timers.cancel(new Reconcile());
            return Effect().none();
        }
        Optional<ActorRef<GeneratedMessage>> target = directory.host(s.migrationTarget());
        Optional<ActorRef<GeneratedMessage>> source = directory.host(s.host());
        var targetList = target.map(directory::list);
        var sourceList = source.map(directory::list);
        ctx.pipeToSelf(java.util.concurrent.CompletableFuture.supplyAsync(() -> decide(s, get(targetList), get(sourceList))),
                (event, err) -> event == null || err != null ? new Decided(null) : new Decided(event));
        return Effect().none();
    }

    private static InstanceList get(Optional<java.util.concurrent.CompletableFuture<InstanceList>> f) {
        try {
            return f.isPresent() ? f.get().get(10, java.util.concurrent.TimeUnit.SECONDS) : null;
        } catch (Exception e) {
            return null;
        }
    }

    private GeneratedMessage decide(InstanceState s, InstanceList target, InstanceList source) {
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
        return null;
    }
}
