package dev.ferry.orchestrator;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.agent.HostAgent;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.ListInstances;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The host agents this node knows, by host name: kept up to date from the Receptionist, each new agent asked once
 * for its name. Also asks every host for its instances and free memory (for placement and status). A host that is
 * unreachable is not asked ({@link #host}, {@link #hosts}) but is still {@link #present()} until the cluster removed
 * it (the split-brain resolver downed it) and a margin has passed (the resolver's {@code stable-after}, as Pekko's
 * {@code down-removal-margin} defaults to): the host, on its side of a partition, downs itself about as late as the
 * majority downs it, and only after both may its instances be called lost.
 */
public final class HostDirectory {
    private static final Duration ASK = Duration.ofSeconds(10);

    private final ActorSystem<?> system;
    private final ActorRefResolver resolver;
    private final Map<String, ActorRef<GeneratedMessage>> byName = new ConcurrentHashMap<>();
    private final Map<ActorRef<GeneratedMessage>, String> names = new ConcurrentHashMap<>();
    private volatile Set<ActorRef<GeneratedMessage>> reachable = Set.of();
    /** Hosts the cluster removed, with the time (System.nanoTime) it did, until the removal margin has passed. */
    private final Map<String, Long> removed = new ConcurrentHashMap<>();
    private final long removalMarginNanos;

    private HostDirectory(ActorSystem<?> system) {
        this.system = system;
        this.resolver = ActorRefResolver.get(system);
        var config = system.settings().config();
        String path = "pekko.cluster.split-brain-resolver.stable-after";
        this.removalMarginNanos = config.hasPath(path) ? config.getDuration(path).toNanos() : 0;
    }

    /** Starts following the Receptionist's list of host agents. */
    public static HostDirectory start(ActorSystem<?> system) {
        HostDirectory d = new HostDirectory(system);
        Behavior<Receptionist.Listing> follower = Behaviors.receive(Receptionist.Listing.class)
                .onMessage(Receptionist.Listing.class, l -> {
                    d.update(l.getServiceInstances(HostAgent.SERVICE), l.getAllServiceInstances(HostAgent.SERVICE));
                    return Behaviors.same();
                }).build();
        ActorRef<Receptionist.Listing> ref = system.systemActorOf(follower, "host-directory",
                org.apache.pekko.actor.typed.Props.empty());
        system.receptionist().tell(Receptionist.subscribe(HostAgent.SERVICE, ref));
        return d;
    }

    private void update(Set<ActorRef<GeneratedMessage>> agents, Set<ActorRef<GeneratedMessage>> members) {
        reachable = Set.copyOf(agents);
        long now = System.nanoTime();
        names.entrySet().removeIf(e -> {
            boolean gone = !members.contains(e.getKey());
            if (gone) {
                removed.put(e.getValue(), now);
            }
            return gone;
        });
        byName.values().removeIf(r -> !agents.contains(r));
        for (ActorRef<GeneratedMessage> a : agents) {
            String known = names.get(a);
            if (known != null) {
                byName.put(known, a);
            } else {
                list(a).thenAccept(l -> {
                    names.put(a, l.getHost());
                    if (reachable.contains(a)) {
                        byName.put(l.getHost(), a);
                    }
                });
            }
        }
    }

    /** The hosts still in the cluster, reachable or not, and those removed less than the removal margin ago. */
    public Set<String> present() {
        long now = System.nanoTime();
        removed.values().removeIf(at -> now - at >= removalMarginNanos);
        Set<String> out = new java.util.HashSet<>(names.values());
        out.addAll(removed.keySet());
        return Set.copyOf(out);
    }

    public Optional<ActorRef<GeneratedMessage>> host(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Map<String, ActorRef<GeneratedMessage>> hosts() {
        return Map.copyOf(byName);
    }

    public String ref(ActorRef<?> r) {
        return resolver.toSerializationFormat(r);
    }

    public java.util.concurrent.CompletableFuture<InstanceList> list(ActorRef<GeneratedMessage> agent) {
        return AskPattern.<GeneratedMessage, GeneratedMessage>ask(agent,
                        replyTo -> ListInstances.newBuilder().setReplyTo(resolver.toSerializationFormat(replyTo)).build(),
                        ASK, system.scheduler())
                .thenApply(m -> (InstanceList) m).toCompletableFuture();
    }

    /** Every reachable host's list; hosts that do not answer in time are left out. */
    public List<InstanceList> listAll() {
        List<InstanceList> out = new ArrayList<>();
        for (ActorRef<GeneratedMessage> a : byName.values()) {
            try {
                out.add(list(a).get(ASK.toMillis() + 1000, java.util.concurrent.TimeUnit.MILLISECONDS));
            } catch (Exception unreachable) {
                // not counted
            }
        }
        return out;
    }
}
