package dev.ferry.host.migration;

import com.google.protobuf.GeneratedMessage;
import org.apache.pekko.actor.typed.ActorSystem;

/** What a migration runner, on its own thread, needs from its host agent. */
public interface AgentLink {
    /** Persists {@code event} in the agent's journal; returns once it is durable. */
    void persist(GeneratedMessage event) throws MigrationException;

    /** Sends {@code message} to the actor whose serialized reference is {@code ref}. */
    void tell(String ref, GeneratedMessage message);

    /** This agent's serialized reference. */
    String selfRef();

    String hostName();

    ActorSystem<?> system();

    /** What a switchover costs on this host besides the last pages, as its past migrations measured it. */
    SwitchoverCost switchoverCost();
}
