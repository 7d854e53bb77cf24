package dev.ferry.orchestrator.registry;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The ids of every instance the registry has ever recorded, read from the journal itself (its persistence ids), so
 * an instance whose host died is still listed. The read journal is {@code ferry.registry.read-journal}: the LevelDB
 * one for the embedded journal, the JDBC one for PostgreSQL.
 */
public final class RegistryIds {
    private static final String PREFIX = InstanceEntity.TYPE_KEY.name() + "|";

    private final ActorSystem<?> system;
    private final CurrentPersistenceIdsQuery query;

    public RegistryIds(ActorSystem<?> system) {
        this.system = system;
        String plugin = system.settings().config().getString("ferry.registry.read-journal");
        this.query = PersistenceQuery.get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system))
                .getReadJournalFor(CurrentPersistenceIdsQuery.class, plugin);
    }

    public CompletionStage<List<String>> instanceIds() {
        return query.currentPersistenceIds().filter(p -> p.startsWith(PREFIX)).map(p -> p.substring(PREFIX.length()))
                .runWith(Sink.seq(), system);
    }
}
