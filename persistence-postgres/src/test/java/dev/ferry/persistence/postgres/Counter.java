package dev.ferry.persistence.postgres;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.persistence.postgres.counter.Add;
import dev.ferry.persistence.postgres.counter.Added;
import dev.ferry.persistence.postgres.counter.CounterValue;
import dev.ferry.persistence.postgres.counter.GetValue;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/** A counter whose commands and events are protobuf messages: the smallest entity that needs its journal. */
final class Counter extends EventSourcedBehavior<GeneratedMessage, Added, Counter.State> {
    static final EntityTypeKey<GeneratedMessage> ENTITY_TYPE_KEY = EntityTypeKey.create(GeneratedMessage.class, "Counter");

    record State(long value) {}

    private final ActorRefResolver resolver;
    private final String node;

    static Behavior<GeneratedMessage> create(PersistenceId persistenceId) {
        return Behaviors.setup(ctx -> new Counter(persistenceId, ctx.getSystem()));
    }

    /** Runs counters as sharded entities on this node. */
    static void init(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY,
                ctx -> create(PersistenceId.of(ENTITY_TYPE_KEY.name(), ctx.getEntityId()))));
    }

    private Counter(PersistenceId persistenceId, ActorSystem<?> system) {
        super(persistenceId);
        this.resolver = ActorRefResolver.get(system);
        this.node = system.address().toString();
    }

    static Add add(ActorSystem<?> system, long amount, ActorRef<CounterValue> replyTo) {
        return Add.newBuilder().setAmount(amount).setReplyTo(ActorRefResolver.get(system).toSerializationFormat(replyTo)).build();
    }

    static GetValue getValue(ActorSystem<?> system, ActorRef<CounterValue> replyTo) {
        return GetValue.newBuilder().setReplyTo(ActorRefResolver.get(system).toSerializationFormat(replyTo)).build();
    }

    @Override
    public State emptyState() {
        return new State(0);
    }

    @Override
    public CommandHandler<GeneratedMessage, Added, State> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(Add.class, (state, add) -> Effect()
                        .persist(Added.newBuilder().setAmount(add.getAmount()).build())
                        .thenRun(s -> reply(add.getReplyTo(), s)))
                .onCommand(GetValue.class, (state, get) -> Effect().none().thenRun(s -> reply(get.getReplyTo(), s)))
                .build();
    }

    @Override
    public EventHandler<State, Added> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Added.class, (state, added) -> new State(state.value() + added.getAmount()))
                .build();
    }

    private void reply(String replyTo, State state) {
        ActorRef<CounterValue> ref = resolver.resolveActorRef(replyTo);
        ref.tell(CounterValue.newBuilder().setValue(state.value()).setNode(node).build());
    }
}
