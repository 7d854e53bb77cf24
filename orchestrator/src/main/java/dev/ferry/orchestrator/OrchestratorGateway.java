package dev.ferry.orchestrator;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.orchestrator.registry.InstanceEntity;
import dev.ferry.orchestrator.registry.RegistryIds;
import dev.ferry.protocol.v1.CheckpointRequest;
import dev.ferry.protocol.v1.RestoreRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.HostSummary;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.InstanceRequest;
import dev.ferry.protocol.v1.LaunchRequest;
import dev.ferry.protocol.v1.ListRequest;
import dev.ferry.protocol.v1.MigrateRequest;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** The orchestrator's front door: protobuf requests from operators, routed to instance entities. */
public final class OrchestratorGateway {
    public static final ServiceKey<GeneratedMessage> SERVICE = ServiceKey.create(GeneratedMessage.class, "ferry-orchestrator");

    private OrchestratorGateway() {}

    public static Behavior<GeneratedMessage> create(HostDirectory directory, RegistryIds ids) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE, ctx.getSelf()));
            ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
            ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
            return Behaviors.receive(GeneratedMessage.class)
                    .onMessage(LaunchRequest.class, r -> {
                        sharding.entityRefFor(InstanceEntity.TYPE_KEY, r.getInstanceId()).tell(new InstanceEntity.Launch(r));
                        return Behaviors.same();
                    })
                    .onMessage(MigrateRequest.class, r -> {
                        sharding.entityRefFor(InstanceEntity.TYPE_KEY, r.getInstanceId()).tell(new InstanceEntity.Migrate(r));
                        return Behaviors.same();
                    })
                    .onMessage(CheckpointRequest.class, r -> {
                        sharding.entityRefFor(InstanceEntity.TYPE_KEY, r.getInstanceId()).tell(new InstanceEntity.Checkpoint(r));
                        return Behaviors.same();
                    })
                    .onMessage(RestoreRequest.class, r -> {
                        sharding.entityRefFor(InstanceEntity.TYPE_KEY, r.getInstanceId()).tell(new InstanceEntity.Restore(r));
                        return Behaviors.same();
                    })
                    .onMessage(InstanceRequest.class, r -> {
                        sharding.entityRefFor(InstanceEntity.TYPE_KEY, r.getInstanceId()).tell(new InstanceEntity.Get(r.getReplyTo()));
                        return Behaviors.same();
                    })
                    .onMessage(ListRequest.class, r -> {
                        ActorRef<GeneratedMessage> replyTo = resolver.resolveActorRef(r.getReplyTo());
                        status(ctx.getSystem(), sharding, directory, ids).thenAccept(replyTo::tell);
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    private static final Duration ASK = Duration.ofSeconds(10);

    /**
     * Every instance the registry knows (from its journal, lost ones included, as the registry sees them), and every
     * reachable host with its free memory (from the host agents themselves).
     */
    static CompletableFuture<ClusterStatus> status(ActorSystem<?> system, ClusterSharding sharding,
                                                   HostDirectory directory, RegistryIds ids) {
        CompletableFuture<List<InstanceList>> hosts = CompletableFuture.supplyAsync(directory::listAll);
        CompletableFuture<List<RegisteredInstance>> instances = ids.instanceIds().toCompletableFuture().thenCompose(list -> {
            List<CompletableFuture<RegisteredInstance>> asks = new ArrayList<>();
            for (String id : list) {
                asks.add(sharding.entityRefFor(InstanceEntity.TYPE_KEY, id).<GeneratedMessage>ask(
                                r -> new InstanceEntity.Get(ActorRefResolver.get(system).toSerializationFormat(r)), ASK)
                        .thenApply(m -> (RegisteredInstance) m).toCompletableFuture()
                        .exceptionally(e -> RegisteredInstance.newBuilder().setInstanceId(id).setState("UNKNOWN")
                                .setLostReason("the registry did not answer: " + e.getMessage()).build()));
            }
            return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
                    .thenApply(x -> asks.stream().map(CompletableFuture::join).filter(i -> !i.getState().equals("NEW"))
                            .sorted(java.util.Comparator.comparing(RegisteredInstance::getInstanceId)).toList());
        });
        return hosts.thenCombine(instances, (hs, is) -> {
            ClusterStatus.Builder b = ClusterStatus.newBuilder().addAllInstances(is);
            for (InstanceList l : hs.stream().sorted(java.util.Comparator.comparing(InstanceList::getHost)).toList()) {
                int active = (int) l.getInstancesList().stream().filter(i -> i.getState().equals("RUNNING")
                        || i.getState().startsWith("MIGRATING")).count();
                b.addHosts(HostSummary.newBuilder().setHost(l.getHost()).setMemoryCapacity(l.getMemoryCapacity())
                        .setMemoryFree(l.getMemoryFree()).setInstances(active));
            }
            return b.build();
        });
    }
}
