package dev.ferry.orchestrator.http;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.agent.HostAgent;
import dev.ferry.orchestrator.OrchestratorClient;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.RestoreResult;
import dev.ferry.protocol.v1.ConsoleReply;
import dev.ferry.protocol.v1.ConsoleRequest;
import dev.ferry.protocol.v1.EvacuatedInstance;
import dev.ferry.protocol.v1.EvacuationReport;
import dev.ferry.protocol.v1.ImageList;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.ListImages;
import dev.ferry.protocol.v1.ListInstances;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The control plane of a running cluster, asked through an orchestrator node's own actor system. Everything is
 * asynchronous except an evacuation, which runs the (blocking) {@link OrchestratorClient#evacuate} on
 * {@code blocking}.
 */
public final class ClusterControlPlane implements ControlPlane {
    private static final Duration ASK = Duration.ofSeconds(10);
    private static final Duration EVACUATION = Duration.ofMinutes(30);
    /** Progress reports waiting for a slow HTTP client; the oldest are dropped, the final MigrationDone never is. */
    private static final int MIGRATION_BUFFER = 256;

    private final ActorSystem<?> system;
    private final OrchestratorClient client;
    private final ActorRefResolver resolver;
    private final Executor blocking;

    public ClusterControlPlane(ActorSystem<?> system, Executor blocking) {
        this.system = system;
        this.client = new OrchestratorClient(system);
        this.resolver = ActorRefResolver.get(system);
        this.blocking = blocking;
    }

    @Override
    public CompletionStage<ClusterStatus> status() {
        return client.statusAsync();
    }

    @Override
    public CompletionStage<RegisteredInstance> instance(String id) {
        return client.instanceAsync(id);
    }

    @Override
    public CompletionStage<LaunchResult> launch(String id, String guest, long memoryBytes, Map<String, String> args,
                                                String host) {
        return client.launchAsync(id, guest, memoryBytes, args, host);
    }

    @Override
    public CompletionStage<ImageList> images() {
        var key = dev.ferry.host.storage.StorageService.SERVICE;
        return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                        r -> Receptionist.find(key, r), ASK, system.scheduler())
                .thenCompose(l -> {
                    var nodes = l.getServiceInstances(key);
                    if (nodes.isEmpty()) {
                        return CompletableFuture.completedFuture(ImageList.newBuilder().setError("no storage node in "
                                + "the cluster (start one: 'ferry cluster up' does, or dev.ferry.host.storage.StorageNode)")
                                .build());
                    }
                    return AskPattern.<GeneratedMessage, GeneratedMessage>ask(nodes.iterator().next(),
                                    r -> ListImages.newBuilder().setReplyTo(resolver.toSerializationFormat(r)).build(),
                                    ASK, system.scheduler())
                            .thenApply(ImageList.class::cast);
                });
    }

    @Override
    public CompletionStage<LaunchResult> deploy(String id, String guest, long memoryBytes, Map<String, String> args,
                                                String host, String image, String imageServer, long copyRate) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return client.deploy(id, guest, memoryBytes, args, host, image, imageServer, copyRate);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, blocking);
    }

    /** Asks every host agent for its list; the one named {@code host} says what it knows of {@code id}. */
    @Override
    public CompletionStage<Optional<InstanceInfo>> instanceOn(String host, String id) {
        return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                        r -> Receptionist.find(HostAgent.SERVICE, r), ASK, system.scheduler())
                .thenCompose(l -> {
                    List<CompletableFuture<GeneratedMessage>> asks = l.getServiceInstances(HostAgent.SERVICE).stream()
                            .map(agent -> AskPattern.<GeneratedMessage, GeneratedMessage>ask(agent, r -> ListInstances
                                            .newBuilder().setReplyTo(resolver.toSerializationFormat(r)).build(), ASK,
                                    system.scheduler()).toCompletableFuture().exceptionally(unreachable -> null))
                            .toList();
                    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(x -> asks.stream()
                            .map(CompletableFuture::join).filter(m -> m instanceof InstanceList il
                                    && il.getHost().equals(host))
                            .flatMap(m -> ((InstanceList) m).getInstancesList().stream())
                            .filter(i -> i.getInstanceId().equals(id)).findFirst());
                });
    }

    @Override
    public Source<GeneratedMessage, NotUsed> migrate(String id, String target, long downtimeMicros) {
        return ActorSource.<GeneratedMessage>actorRef(m -> false, m -> Optional.empty(), MIGRATION_BUFFER,
                        OverflowStrategy.dropHead())
                .mapMaterializedValue(ref -> {
                    client.startMigration(id, target, downtimeMicros, ref).whenComplete((x, err) -> {
                        if (err != null) {
                            ref.tell(MigrationDone.newBuilder().setOk(false).setError("cannot ask the orchestrator: "
                                    + ApiErrors.unwrap(err).getMessage()).build());
                        }
                    });
                    return NotUsed.notUsed();
                })
                .takeWhile(m -> !(m instanceof MigrationDone), true);
    }

    @Override
    public CompletionStage<EvacuationReport> evacuate(String host, int parallel, long downtimeMicros) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return client.evacuate(host, parallel, downtimeMicros, EVACUATION);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, blocking).thenApply(results -> {
            EvacuationReport.Builder b = EvacuationReport.newBuilder().setHost(host).setOk(true);
            for (OrchestratorClient.Evacuated e : results) {
                b.addInstances(EvacuatedInstance.newBuilder().setInstanceId(e.instanceId()).setResult(e.result()));
                b.setOk(b.getOk() && e.result().getOk());
            }
            return b.build();
        });
    }

    @Override
    public CompletionStage<CheckpointResult> checkpoint(String id) {
        return client.checkpointAsync(id);
    }

    @Override
    public CompletionStage<RestoreResult> restore(String id, String from, String host) {
        return client.restoreAsync(id, from, host);
    }

    /** Asks every host agent: only the one running {@code id} has it ({@code found}). */
    @Override
    public CompletionStage<ConsoleReply> console(String id, int lines) {
        return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                        r -> Receptionist.find(HostAgent.SERVICE, r), ASK, system.scheduler())
                .thenCompose(l -> {
                    List<CompletableFuture<GeneratedMessage>> asks = l.getServiceInstances(HostAgent.SERVICE).stream()
                            .map(agent -> askConsole(agent, id, lines)).toList();
                    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(x -> asks.stream()
                            .map(CompletableFuture::join).filter(m -> m instanceof ConsoleReply c && c.getFound())
                            .map(ConsoleReply.class::cast).findFirst()
                            .orElse(ConsoleReply.newBuilder().setInstanceId(id).setFound(false).build()));
                });
    }

    private CompletableFuture<GeneratedMessage> askConsole(ActorRef<GeneratedMessage> agent, String id, int lines) {
        return AskPattern.<GeneratedMessage, GeneratedMessage>ask(agent, r -> ConsoleRequest.newBuilder()
                        .setInstanceId(id).setMaxLines(lines).setReplyTo(resolver.toSerializationFormat(r)).build(),
                        ASK, system.scheduler())
                .toCompletableFuture().exceptionally(unreachable -> null);
    }
}
