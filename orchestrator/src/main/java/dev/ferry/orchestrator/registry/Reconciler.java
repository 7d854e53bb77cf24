package dev.ferry.orchestrator.registry;

import dev.ferry.orchestrator.HostDirectory;
import dev.ferry.protocol.v1.InstanceList;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Compares the registry with the hosts, periodically (one per cluster: it runs as a cluster singleton). Every
 * registered instance is shown what the hosts report; each decides for itself whether it is lost and which stray
 * copies to fence.
 */
public final class Reconciler {
    private Reconciler() {}

    private record Tick() {}

    private record Seen(List<String> ids, Map<String, InstanceList> lists, Set<String> present) {}

    public static Behavior<Object> create(HostDirectory directory, RegistryIds ids, Duration every, Duration after) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(new Tick(), after, every);
            ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
            boolean[] busy = {false};
            return Behaviors.receive(Object.class)
                    .onMessage(Tick.class, t -> {
                        if (!busy[0]) {
                            busy[0] = true;
                            Set<String> present = directory.present();
                            CompletableFuture<List<String>> known = ids.instanceIds().toCompletableFuture();
                            CompletableFuture<Map<String, InstanceList>> lists = CompletableFuture.supplyAsync(() -> {
                                Map<String, InstanceList> m = new HashMap<>();
                                directory.listAll().forEach(l -> m.put(l.getHost(), l));
                                return m;
                            });
                            ctx.pipeToSelf(known.thenCombine(lists, (k, l) -> new Seen(k, l, Set.copyOf(present))),
                                    (seen, err) -> err != null ? new Seen(List.of(), Map.of(), Set.of()) : seen);
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Seen.class, s -> {
                        busy[0] = false;
                        for (String id : s.ids()) {
                            sharding.entityRefFor(InstanceEntity.TYPE_KEY, id)
                                    .tell(new InstanceEntity.Observe(s.lists(), s.present()));
                        }
                        return Behaviors.same();
                    })
                    .build();
        }));
    }
}
