package dev.ferry.orchestrator;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.CheckpointRequest;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.RestoreRequest;
import dev.ferry.protocol.v1.RestoreResult;
import dev.ferry.protocol.v1.InstanceRequest;
import dev.ferry.protocol.v1.LaunchRequest;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.ListRequest;
import dev.ferry.protocol.v1.MigrateRequest;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationProgress;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/** Asks the orchestrator (any orchestrator node) on behalf of an operator. */
public final class OrchestratorClient {
    private static final Duration ASK = Duration.ofSeconds(60);
    /** Checkpoints and restores move guest memory through files: allow them longer. */
    private static final Duration ASK_SNAPSHOT = Duration.ofSeconds(180);

    private final ActorSystem<?> system;
    private final ActorRefResolver resolver;

    public OrchestratorClient(HostClient node) {
        this(node.system());
    }

    /** Asks through any cluster member's actor system (an orchestrator node's own, say). */
    public OrchestratorClient(ActorSystem<?> system) {
        this.system = system;
        this.resolver = ActorRefResolver.get(system);
    }

    public ActorRef<GeneratedMessage> gateway(Duration timeout) throws Exception {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (true) {
            Receptionist.Listing l = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                    r -> Receptionist.find(OrchestratorGateway.SERVICE, r), Duration.ofSeconds(10), system.scheduler())
                    .toCompletableFuture().get();
            Set<ActorRef<GeneratedMessage>> refs = l.getServiceInstances(OrchestratorGateway.SERVICE);
            if (!refs.isEmpty()) {
                return refs.iterator().next();
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("no orchestrator in the cluster within " + timeout);
            }
            Thread.sleep(200);
        }
    }

    private <T extends GeneratedMessage> T ask(Function<String, GeneratedMessage> request, Class<T> type) throws Exception {
        return ask(request, type, ASK);
    }

    private <T extends GeneratedMessage> T ask(Function<String, GeneratedMessage> request, Class<T> type, Duration limit)
            throws Exception {
        ActorRef<GeneratedMessage> g = gateway(Duration.ofSeconds(30));
        GeneratedMessage m = AskPattern.<GeneratedMessage, GeneratedMessage>ask(g,
                r -> request.apply(resolver.toSerializationFormat(r)), limit, system.scheduler())
                .toCompletableFuture().get(limit.toMillis() + 1000, TimeUnit.MILLISECONDS);
        if (!type.isInstance(m)) {
            throw new IllegalStateException("the orchestrator answered " + m.getClass().getSimpleName() + ": " + m);
        }
        return type.cast(m);
    }

    public LaunchResult launch(String id, String guest, long memory, Map<String, String> args, String host) throws Exception {
        return ask(r -> LaunchRequest.newBuilder().setInstanceId(id).setGuest(guest).setMemoryBytes(memory)
                .putAllArgs(args).setHost(host == null ? "" : host).setReplyTo(r).build(), LaunchResult.class);
    }

    /**
     * Launches {@code id} with its disk streamed from {@code image} on the NBD server {@code imageServer} (host:port),
     * copied to the host in the background at most {@code copyRateLimit} bytes per second (0: unlimited).
     */
    public LaunchResult deploy(String id, String guest, long memory, Map<String, String> args, String host, String image,
                               String imageServer, long copyRateLimit) throws Exception {
        return ask(r -> LaunchRequest.newBuilder().setInstanceId(id).setGuest(guest).setMemoryBytes(memory)
                .putAllArgs(args).setHost(host == null ? "" : host).setImage(image).setImageServer(imageServer)
                .setCopyRateLimit(copyRateLimit).setReplyTo(r).build(), LaunchResult.class);
    }

    public ClusterStatus status() throws Exception {
        return ask(r -> ListRequest.newBuilder().setReplyTo(r).build(), ClusterStatus.class);
    }

    public RegisteredInstance instance(String id) throws Exception {
        return ask(r -> InstanceRequest.newBuilder().setInstanceId(id).setReplyTo(r).build(), RegisteredInstance.class);
    }

    /** Checkpoints {@code id} where it runs; the registry remembers the file as its newest checkpoint. */
    public CheckpointResult checkpoint(String id) throws Exception {
        return ask(r -> CheckpointRequest.newBuilder().setInstanceId(id).setReplyTo(r).build(), CheckpointResult.class,
                ASK_SNAPSHOT);
    }

    /**
     * Restores {@code id} from {@code from} (null: its newest checkpoint) on {@code host} (null: where it runs, or where
     * placement chooses when it is lost). A running instance is stopped first.
     */
    public RestoreResult restore(String id, String from, String host) throws Exception {
        return ask(r -> RestoreRequest.newBuilder().setInstanceId(id).setFrom(from == null ? "" : from)
                .setHost(host == null ? "" : host).setReplyTo(r).build(), RestoreResult.class, ASK_SNAPSHOT);
    }

    /** How one instance's move off an evacuated host ended. */
    public record Evacuated(String instanceId, MigrationDone result) {}

    /**
     * Moves every instance running on {@code host} elsewhere (placement never picks {@code host} again for them),
     * at most {@code parallel} at a time; returns each instance's result.
     */
    public java.util.List<Evacuated> evacuate(String host, int parallel, long downtimeMicros, Duration timeout)
            throws Exception {
        java.util.List<String> ids = status().getInstancesList().stream()
                .filter(i -> i.getHost().equals(host) && i.getState().equals("RUNNING"))
                .map(RegisteredInstance::getInstanceId).toList();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(Math.max(1, parallel));
        try {
            java.util.List<java.util.concurrent.Future<Evacuated>> futures = new java.util.ArrayList<>();
            for (String id : ids) {
                futures.add(pool.submit(() -> new Evacuated(id, migrate(id, null, downtimeMicros, p -> { }, timeout))));
            }
            java.util.List<Evacuated> out = new java.util.ArrayList<>();
            for (var f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Migrates {@code id} (to {@code target}, or where the orchestrator chooses); progress goes to {@code onProgress}. */
    public MigrationDone migrate(String id, String target, long downtimeMicros, Consumer<MigrationProgress> onProgress,
                                 Duration timeout) throws Exception {
        BlockingQueue<GeneratedMessage> inbox = new LinkedBlockingQueue<>();
        ActorRef<GeneratedMessage> collector = system.systemActorOf(Behaviors.receive(GeneratedMessage.class)
                .onMessage(GeneratedMessage.class, m -> {
                    inbox.add(m);
                    return Behaviors.same();
                }).build(), "orchestrated-migration-" + UUID.randomUUID(), Props.empty());
        try {
            gateway(Duration.ofSeconds(30)).tell(MigrateRequest.newBuilder().setInstanceId(id)
                    .setTargetHost(target == null ? "" : target).setDowntimeLimitMicros(downtimeMicros)
                    .setReplyTo(resolver.toSerializationFormat(collector)).build());
            long deadline = System.currentTimeMillis() + timeout.toMillis();
            while (true) {
                GeneratedMessage m = inbox.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
                if (m == null) {
                    throw new IllegalStateException("migration of " + id + " did not finish within " + timeout);
                }
                if (m instanceof MigrationProgress p) {
                    onProgress.accept(p);
                } else if (m instanceof MigrationDone d) {
                    return d;
                }
            }
        } finally {
            system.classicSystem().stop(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(collector));
        }
    }

    /** The gateway as the Receptionist knows it now; fails at once when no orchestrator has registered one. */
    public CompletionStage<ActorRef<GeneratedMessage>> gatewayNow() {
        return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                r -> Receptionist.find(OrchestratorGateway.SERVICE, r), Duration.ofSeconds(10), system.scheduler())
                .thenCompose(l -> {
                    Set<ActorRef<GeneratedMessage>> refs = l.getServiceInstances(OrchestratorGateway.SERVICE);
                    return refs.isEmpty()
                            ? CompletableFuture.failedFuture(new IllegalStateException("no orchestrator gateway in the cluster"))
                            : CompletableFuture.completedFuture(refs.iterator().next());
                });
    }

    private <T extends GeneratedMessage> CompletionStage<T> askAsync(Function<String, GeneratedMessage> request,
                                                                      Class<T> type) {
        return askAsync(request, type, ASK);
    }

    private <T extends GeneratedMessage> CompletionStage<T> askAsync(Function<String, GeneratedMessage> request,
                                                                      Class<T> type, Duration limit) {
        return gatewayNow().thenCompose(g -> AskPattern.<GeneratedMessage, GeneratedMessage>ask(g,
                r -> request.apply(resolver.toSerializationFormat(r)), limit, system.scheduler())).thenApply(m -> {
                    if (!type.isInstance(m)) {
                        throw new IllegalStateException("the orchestrator answered " + m.getClass().getSimpleName() + ": " + m);
                    }
                    return type.cast(m);
                });
    }

    /** {@link #checkpoint} without blocking. */
    public CompletionStage<CheckpointResult> checkpointAsync(String id) {
        return askAsync(r -> CheckpointRequest.newBuilder().setInstanceId(id).setReplyTo(r).build(), CheckpointResult.class,
                ASK_SNAPSHOT);
    }

    /** {@link #restore} without blocking. */
    public CompletionStage<RestoreResult> restoreAsync(String id, String from, String host) {
        return askAsync(r -> RestoreRequest.newBuilder().setInstanceId(id).setFrom(from == null ? "" : from)
                .setHost(host == null ? "" : host).setReplyTo(r).build(), RestoreResult.class, ASK_SNAPSHOT);
    }

    /** {@link #status()} without blocking. */
    public CompletionStage<ClusterStatus> statusAsync() {
        return askAsync(r -> ListRequest.newBuilder().setReplyTo(r).build(), ClusterStatus.class);
    }

    /** {@link #instance(String)} without blocking: state NEW for an id the registry has never seen. */
    public CompletionStage<RegisteredInstance> instanceAsync(String id) {
        return askAsync(r -> InstanceRequest.newBuilder().setInstanceId(id).setReplyTo(r).build(), RegisteredInstance.class);
    }

    /** {@link #launch} without blocking. */
    public CompletionStage<LaunchResult> launchAsync(String id, String guest, long memory, Map<String, String> args,
                                                     String host) {
        return askAsync(r -> LaunchRequest.newBuilder().setInstanceId(id).setGuest(guest).setMemoryBytes(memory)
                .putAllArgs(args).setHost(host == null ? "" : host).setReplyTo(r).build(), LaunchResult.class);
    }

    /**
     * Starts migrating {@code id}; its MigrationProgress reports and then its MigrationDone go to {@code replyTo}.
     * Completes once the request is handed to the gateway.
     */
    public CompletionStage<Void> startMigration(String id, String target, long downtimeMicros,
                                                ActorRef<GeneratedMessage> replyTo) {
        return gatewayNow().thenAccept(g -> g.tell(MigrateRequest.newBuilder().setInstanceId(id)
                .setTargetHost(target == null ? "" : target).setDowntimeLimitMicros(downtimeMicros)
                .setReplyTo(resolver.toSerializationFormat(replyTo)).build()));
    }
}
