package dev.ferry.host.client;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.HostSettings;
import dev.ferry.host.agent.HostAgent;
import dev.ferry.protocol.v1.ConsoleReply;
import dev.ferry.protocol.v1.ConsoleRequest;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.LaunchInstance;
import dev.ferry.protocol.v1.LaunchReply;
import dev.ferry.protocol.v1.ListInstances;
import dev.ferry.protocol.v1.MigrateInstance;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationProgress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
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

/**
 * A cluster member that only asks (role {@code client}): finds the host agents through the Receptionist and talks to
 * them in protobuf. Used by the CLI, the tests and the benchmarks.
 */
public final class HostClient implements AutoCloseable {
    private static final Duration ASK = Duration.ofSeconds(30);

    private final ActorSystem<Void> system;
    private final ActorRefResolver resolver;

    private HostClient(ActorSystem<Void> system) {
        this.system = system;
        this.resolver = ActorRefResolver.get(system);
    }

    /** Joins the cluster at {@code seeds} as a client; {@code dataDir} holds nothing durable but must exist. */
    public static HostClient join(List<String> seeds, Path dataDir) throws Exception {
        return join(seeds, dataDir, "127.0.0.1");
    }

    /** As above, listening on {@code bindHost} (where the cluster's nodes can reach it) rather than 127.0.0.1. */
    public static HostClient join(List<String> seeds, Path dataDir, String bindHost) throws Exception {
        return join(seeds, dataDir, bindHost, 0);
    }

    /**
     * As above, on {@code port} (0: any free one). A client whose own address ({@code bindHost:port}) is the first of
     * {@code seeds} starts the cluster: the nodes may then come and go, this client keeps the cluster's seed alive.
     */
    public static HostClient join(List<String> seeds, Path dataDir, String bindHost, int port) throws Exception {
        Files.createDirectories(dataDir);
        HostSettings s = new HostSettings("client-" + UUID.randomUUID().toString().substring(0, 8), bindHost, port,
                dataDir, seeds, 1L << 30, List.of("client"));
        return new HostClient(ActorSystem.create(Behaviors.empty(), HostSettings.SYSTEM_NAME, s.config()));
    }

    public ActorSystem<Void> system() {
        return system;
    }

    private <T extends GeneratedMessage> T ask(ActorRef<GeneratedMessage> agent, Function<String, GeneratedMessage> request,
                                               Class<T> replyType) throws Exception {
        CompletionStage<GeneratedMessage> reply = AskPattern.ask(agent,
                (ActorRef<GeneratedMessage> replyTo) -> request.apply(resolver.toSerializationFormat(replyTo)), ASK,
                system.scheduler());
        GeneratedMessage m = reply.toCompletableFuture().get(ASK.toMillis() + 1000, TimeUnit.MILLISECONDS);
        return replyType.cast(m);
    }

    /** Every host agent the Receptionist knows, by host name; waits until at least {@code n} are known. */
    public Map<String, ActorRef<GeneratedMessage>> awaitHosts(int n, Duration timeout) throws Exception {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (true) {
            Receptionist.Listing listing = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                    replyTo -> Receptionist.find(HostAgent.SERVICE, replyTo), ASK, system.scheduler())
                    .toCompletableFuture().get();
            Set<ActorRef<GeneratedMessage>> refs = listing.getServiceInstances(HostAgent.SERVICE);
            Map<String, ActorRef<GeneratedMessage>> byName = new HashMap<>();
            for (ActorRef<GeneratedMessage> r : refs) {
                try {
                    byName.put(list(r).getHost(), r);
                } catch (Exception unreachable) {
                    // a host that does not answer is not counted
                }
            }
            if (byName.size() >= n) {
                return byName;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("found " + byName.keySet() + ", fewer than " + n + " host agents within " + timeout);
            }
            Thread.sleep(250);
        }
    }

    /**
     * What a storage node of the cluster serves (the first one the Receptionist knows under
     * {@link dev.ferry.host.storage.StorageService#SERVICE}); waits up to {@code timeout} for one to register.
     */
    public dev.ferry.protocol.v1.ImageList images(Duration timeout) throws Exception {
        var key = dev.ferry.host.storage.StorageService.SERVICE;
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (true) {
            Receptionist.Listing listing = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                    replyTo -> Receptionist.find(key, replyTo), ASK, system.scheduler()).toCompletableFuture().get();
            Set<ActorRef<GeneratedMessage>> refs = listing.getServiceInstances(key);
            if (!refs.isEmpty()) {
                return ask(refs.iterator().next(), r -> dev.ferry.protocol.v1.ListImages.newBuilder().setReplyTo(r).build(),
                        dev.ferry.protocol.v1.ImageList.class);
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("no storage node in the cluster within " + timeout
                        + " (start one: 'ferry cluster up' does, or dev.ferry.host.storage.StorageNode)");
            }
            Thread.sleep(250);
        }
    }

    public String refOf(ActorRef<GeneratedMessage> agent) {
        return resolver.toSerializationFormat(agent);
    }

    public InstanceList list(ActorRef<GeneratedMessage> agent) throws Exception {
        return ask(agent, r -> ListInstances.newBuilder().setReplyTo(r).build(), InstanceList.class);
    }

    public LaunchReply launch(ActorRef<GeneratedMessage> agent, String id, String guest, long memory,
                              Map<String, String> args) throws Exception {
        return ask(agent, r -> LaunchInstance.newBuilder().setInstanceId(id).setGuest(guest).setMemoryBytes(memory)
                .putAllArgs(args).setReplyTo(r).build(), LaunchReply.class);
    }

    /** Launches {@code id} with its disk streamed from {@code image} on the NBD server {@code server} (host:port). */
    public LaunchReply deploy(ActorRef<GeneratedMessage> agent, String id, String guest, long memory,
                              Map<String, String> args, String image, String server, long copyRateLimit) throws Exception {
        return ask(agent, r -> LaunchInstance.newBuilder().setInstanceId(id).setGuest(guest).setMemoryBytes(memory)
                .putAllArgs(args).setImage(image).setImageServer(server).setCopyRateLimit(copyRateLimit).setReplyTo(r)
                .build(), LaunchReply.class);
    }

    public ConsoleReply console(ActorRef<GeneratedMessage> agent, String id, int maxLines) throws Exception {
        return ask(agent, r -> ConsoleRequest.newBuilder().setInstanceId(id).setMaxLines(maxLines).setReplyTo(r).build(),
                ConsoleReply.class);
    }

    /**
     * Migrates {@code id} from {@code source} to {@code target}, passing each progress report to {@code onProgress};
     * returns the final report (ok or not) or throws after {@code timeout}.
     */
    public MigrationDone migrate(ActorRef<GeneratedMessage> source, ActorRef<GeneratedMessage> target, String id,
                                 MigrateInstance.Builder options, Consumer<MigrationProgress> onProgress,
                                 Duration timeout) throws Exception {
        BlockingQueue<GeneratedMessage> inbox = new LinkedBlockingQueue<>();
        ActorRef<GeneratedMessage> collector = system.systemActorOf(Behaviors.receive(GeneratedMessage.class)
                .onMessage(GeneratedMessage.class, m -> {
                    inbox.add(m);
                    return Behaviors.same();
                }).build(), "migration-" + UUID.randomUUID(), Props.empty());
        try {
            String migrationId = options.getMigrationId().isEmpty() ? UUID.randomUUID().toString() : options.getMigrationId();
            source.tell(options.setMigrationId(migrationId).setInstanceId(id).setTargetRef(refOf(target))
                    .setReplyTo(resolver.toSerializationFormat(collector)).build());
            long deadline = System.currentTimeMillis() + timeout.toMillis();
            while (true) {
                GeneratedMessage m = inbox.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
                if (m == null) {
                    throw new IllegalStateException("migration " + migrationId + " of " + id + " did not finish within " + timeout);
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

    /** Asks {@code source} to cancel migration {@code migrationId}; its final report then says it was cancelled. */
    public void cancel(ActorRef<GeneratedMessage> source, String migrationId) {
        source.tell(dev.ferry.protocol.v1.CancelMigration.newBuilder().setMigrationId(migrationId).build());
    }

    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // going away regardless
        }
    }
}
