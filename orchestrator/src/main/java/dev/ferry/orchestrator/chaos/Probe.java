package dev.ferry.orchestrator.chaos;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.agent.HostAgent;
import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.ConsoleReply;
import dev.ferry.protocol.v1.ConsoleRequest;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.ListInstances;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Asks the host agents directly, with short timeouts (a cut-off host must not stall an observation): which agents the
 * Receptionist knows, what each runs, and a guest's console.
 */
final class Probe {
    static final Duration ASK = Duration.ofSeconds(4);
    private final ActorSystem<?> system;
    private final ActorRefResolver resolver;

    Probe(HostClient client) {
        this.system = client.system();
        this.resolver = ActorRefResolver.get(system);
    }

    /** Every host's instance list that answered within {@link #ASK}, by host name. */
    Map<String, Hosted> lists() throws Exception {
        Receptionist.Listing l = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                r -> Receptionist.find(HostAgent.SERVICE, r), ASK, system.scheduler())
                .toCompletableFuture().get(ASK.toMillis() + 1000, TimeUnit.MILLISECONDS);
        Map<ActorRef<GeneratedMessage>, CompletableFuture<GeneratedMessage>> asks = new HashMap<>();
        for (ActorRef<GeneratedMessage> agent : l.getServiceInstances(HostAgent.SERVICE)) {
            asks.put(agent, ask(agent, r -> ListInstances.newBuilder().setReplyTo(r).build()));
        }
        Map<String, Hosted> out = new HashMap<>();
        for (var e : asks.entrySet()) {
            try {
                if (e.getValue().get(ASK.toMillis() + 1000, TimeUnit.MILLISECONDS) instanceof InstanceList list) {
                    out.put(list.getHost(), new Hosted(e.getKey(), list));
                }
            } catch (Exception silent) {
                // an agent that does not answer in time is not seen this round
            }
        }
        return out;
    }

    /** One host's agent and what it said it runs. */
    record Hosted(ActorRef<GeneratedMessage> agent, InstanceList list) {}

    /** A guest's recent console lines, and the epoch of the copy that printed them. */
    record Console(long epoch, List<String> lines) {}

    /** The guest's recent console lines, or empty when the host does not run its VM (or did not answer). */
    Optional<Console> console(ActorRef<GeneratedMessage> agent, String id) {
        try {
            GeneratedMessage m = ask(agent, r -> ConsoleRequest.newBuilder().setInstanceId(id).setMaxLines(1000)
                    .setReplyTo(r).build()).get(ASK.toMillis() + 1000, TimeUnit.MILLISECONDS);
            if (m instanceof ConsoleReply c && c.getFound()) {
                return Optional.of(new Console(c.getEpoch(), c.getLinesList()));
            }
            return Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /** Whether the agent answered the console request for {@code id} and said its VM is not there. */
    Optional<Boolean> vmFound(ActorRef<GeneratedMessage> agent, String id) {
        try {
            GeneratedMessage m = ask(agent, r -> ConsoleRequest.newBuilder().setInstanceId(id).setMaxLines(1)
                    .setReplyTo(r).build()).get(ASK.toMillis() + 1000, TimeUnit.MILLISECONDS);
            return m instanceof ConsoleReply c ? Optional.of(c.getFound()) : Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private CompletableFuture<GeneratedMessage> ask(ActorRef<GeneratedMessage> agent,
                                                   Function<String, GeneratedMessage> request) {
        return AskPattern.<GeneratedMessage, GeneratedMessage>ask(agent,
                r -> request.apply(resolver.toSerializationFormat(r)), ASK, system.scheduler()).toCompletableFuture();
    }
}
