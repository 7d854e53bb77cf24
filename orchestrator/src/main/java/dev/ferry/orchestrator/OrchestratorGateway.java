package dev.ferry.orchestrator;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.orchestrator.registry.InstanceEntity;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.HostSummary;
import dev.ferry.protocol.v1.InstanceInfo;
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

    public static Behavior<GeneratedMessage> create(HostDirectory directory) {
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
                    .onMessage(InstanceRequest.class, r -> {
                        sharding.entityRefFor(InstanceEntity.TYPE_KEY, r.getInstanceId()).tell(new InstanceEntity.Get(r.getReplyTo()));
                        return Behaviors.same();
                    })
                    .onMessage(ListRequest.class, r -> {
                        ActorRef<GeneratedMessage> replyTo = resolver.resolveActorRef(r.getReplyTo());
                        CompletableFuture.supplyAsync(() -> status(directory)).thenAccept(replyTo::tell);
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    /** Hosts and the instances they run or remember, from the host agents themselves. */
    static ClusterStatus status(HostDirectory directory) {
        ClusterStatus.Builder b = ClusterStatus.newBuilder();
        for (InstanceList l : directory.listAll()) {
            int active = 0;
            for (InstanceInfo i : l.getInstancesList()) {
                boolean here = i.getState().equals("RUNNING") || i.getState().startsWith("MIGRATING");
                if (here) {
                    active++;
                    b.addInstances(RegisteredInstance.newBuilder().setInstanceId(i.getInstanceId()).setGuest(i.getGuest())
                            .setMemoryBytes(i.getMemoryBytes()).setHost(l.getHost()).setEpoch(i.getEpoch())
                            .setState(i.getState()));
                }
            }
            b.addHosts(HostSummary.newBuilder().setHost(l.getHost()).setMemoryCapacity(l.getMemoryCapacity())
                    .setMemoryFree(l.getMemoryFree()).setInstances(active));
        }
        return b.build();
    }
}
