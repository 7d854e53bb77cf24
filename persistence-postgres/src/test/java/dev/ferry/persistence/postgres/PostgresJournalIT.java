package dev.ferry.persistence.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.GeneratedMessage;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.ferry.persistence.postgres.counter.Added;
import dev.ferry.persistence.postgres.counter.CounterValue;
import dev.ferry.persistence.postgres.local.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.state.DurableStateStoreRegistry;
import org.apache.pekko.persistence.state.javadsl.DurableStateUpdateStore;
import org.apache.pekko.persistence.state.javadsl.GetObjectResult;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Event-sourced entities on a real PostgreSQL server, started for this class and stopped after it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresJournalIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private PostgresServer server;

    @BeforeAll
    void startPostgres() throws Exception {
        server = PostgresServer.start();
        PostgresJournal.createSchema(server.jdbcUrl(), server.user(), server.password());
    }

    @AfterAll
    void stopPostgres() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void createSchemaAgainKeepsTablesAndRows() throws Exception {
        try (Connection c = server.connect(); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO snapshot(persistence_id, sequence_number, created, snapshot_ser_id,"
                    + " snapshot_ser_manifest, snapshot_payload) VALUES ('schema-check', 1, 0, 2, 'm', '\\x00')");
            PostgresJournal.createSchema(c);
            PostgresJournal.createSchema(server.jdbcUrl(), server.user(), server.password());
            assertEquals(List.of("durable_state", "event_journal", "event_tag", "snapshot"),
                    strings(st, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"));
            assertEquals(List.of("event_journal_ordering_idx", "state_global_offset_idx", "state_tag_idx"),
                    strings(st, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%pkey' ORDER BY 1"));
            assertEquals(List.of("1"), strings(st, "SELECT count(*) FROM snapshot WHERE persistence_id = 'schema-check'"));
            st.executeUpdate("DELETE FROM snapshot WHERE persistence_id = 'schema-check'");
        }
    }

    @Test
    void newActorSystemRecoversTheCounterFromPostgres() throws Exception {
        PersistenceId id = PersistenceId.ofUniqueId("counter-recovers");
        Config config = nodeConfig("local");

        ActorTestKit first = ActorTestKit.create("ferry", config);
        int protobufSerializerId;
        try {
            assertFalse(first.system().settings().config().getBoolean("pekko.actor.allow-java-serialization"));
            protobufSerializerId = SerializationExtension.get(Adapter.toClassic(first.system()))
                    .findSerializerFor(Added.getDefaultInstance()).identifier();
            ActorRef<GeneratedMessage> counter = first.spawn(Counter.create(id));
            TestProbe<CounterValue> probe = first.createTestProbe();
            counter.tell(Counter.add(first.system(), 5, probe.ref()));
            assertEquals(5, probe.receiveMessage(TIMEOUT).getValue());
            counter.tell(Counter.add(first.system(), 7, probe.ref()));
            assertEquals(12, probe.receiveMessage(TIMEOUT).getValue());
        } finally {
            first.shutdownTestKit();
        }

        try (Connection c = server.connect(); PreparedStatement st = c.prepareStatement(
                "SELECT sequence_number, event_ser_id, event_ser_manifest FROM event_journal"
                        + " WHERE persistence_id = ? ORDER BY sequence_number")) {
            st.setString(1, id.id());
            try (ResultSet rs = st.executeQuery()) {
                for (long seq = 1; seq <= 2; seq++) {
                    assertTrue(rs.next(), "event " + seq + " of " + id.id() + " is in event_journal");
                    assertEquals(seq, rs.getLong(1));
                    assertEquals(protobufSerializerId, rs.getInt(2), "events go through the protobuf serializer");
                    assertEquals(Added.class.getName(), rs.getString(3));
                }
                assertFalse(rs.next());
            }
        }

        ActorTestKit second = ActorTestKit.create("ferry", config);
        try {
            ActorRef<GeneratedMessage> counter = second.spawn(Counter.create(id));
            TestProbe<CounterValue> probe = second.createTestProbe();
            counter.tell(Counter.getValue(second.system(), probe.ref()));
            assertEquals(12, probe.receiveMessage(TIMEOUT).getValue());
            counter.tell(Counter.add(second.system(), 1, probe.ref()));
            assertEquals(13, probe.receiveMessage(TIMEOUT).getValue());
        } finally {
            second.shutdownTestKit();
        }
    }

    @Test
    void durableStateIsKeptInPostgres() throws Exception {
        ActorTestKit kit = ActorTestKit.create("ferry", nodeConfig("local"));
        try {
            @SuppressWarnings("unchecked")
            DurableStateUpdateStore<Added> store = DurableStateStoreRegistry.get(Adapter.toClassic(kit.system()))
                    .getDurableStateStoreFor(DurableStateUpdateStore.class, "jdbc-durable-state-store");
            store.upsertObject("state-kept", 1, Added.newBuilder().setAmount(3).build(), "")
                    .toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            GetObjectResult<Added> got = store.getObject("state-kept").toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(1, got.revision());
            assertEquals(3, got.value().orElseThrow().getAmount());
        } finally {
            kit.shutdownTestKit();
        }
        try (Connection c = server.connect(); Statement st = c.createStatement()) {
            assertEquals(List.of("1"), strings(st, "SELECT revision FROM durable_state WHERE persistence_id = 'state-kept'"));
        }
    }

    @Test
    void shardedCounterMovesToTheOtherNodeWithItsState() {
        ActorTestKit a = ActorTestKit.create("ferry", nodeConfig("cluster"));
        ActorTestKit b = null;
        try {
            b = ActorTestKit.create("ferry", nodeConfig("cluster"));
            Cluster.get(a.system()).manager().tell(Join.create(a.system().address()));
            Cluster.get(b.system()).manager().tell(Join.create(a.system().address()));
            for (ActorTestKit node : List.of(a, b)) {
                awaitUpMembers(node, 2);
                Counter.init(node.system());
            }

            TestProbe<CounterValue> probeA = a.createTestProbe();
            entity(a).tell(Counter.add(a.system(), 5, probeA.ref()));
            CounterValue afterA = probeA.receiveMessage(TIMEOUT);
            assertEquals(5, afterA.getValue());
            TestProbe<CounterValue> probeB = b.createTestProbe();
            entity(b).tell(Counter.add(b.system(), 7, probeB.ref()));
            CounterValue afterB = probeB.receiveMessage(TIMEOUT);
            assertEquals(12, afterB.getValue());
            assertEquals(afterA.getNode(), afterB.getNode(), "one counter, on one node");

            boolean onA = afterA.getNode().equals(a.system().address().toString());
            ActorTestKit host = onA ? a : b;
            ActorTestKit other = onA ? b : a;
            host.shutdownTestKit(); // leaves the cluster; its shards are handed off
            awaitUpMembers(other, 1);

            TestProbe<CounterValue> probe = other.createTestProbe();
            entity(other).tell(Counter.getValue(other.system(), probe.ref()));
            CounterValue moved = probe.receiveMessage(TIMEOUT);
            assertEquals(other.system().address().toString(), moved.getNode());
            assertNotEquals(afterA.getNode(), moved.getNode());
            assertEquals(12, moved.getValue(), "the counter recovered on the other node from the shared journal");
        } finally {
            if (b != null) {
                b.shutdownTestKit();
            }
            a.shutdownTestKit();
        }
    }

    private static EntityRef<GeneratedMessage> entity(ActorTestKit node) {
        return ClusterSharding.get(node.system()).entityRefFor(Counter.ENTITY_TYPE_KEY, "moving");
    }

    private static void awaitUpMembers(ActorTestKit node, int count) {
        Cluster cluster = Cluster.get(node.system());
        node.createTestProbe().awaitAssert(TIMEOUT, () -> {
            List<MemberStatus> statuses = new ArrayList<>();
            cluster.state().getMembers().forEach(m -> statuses.add(m.status()));
            assertEquals(count, statuses.size(), "members seen by " + node.system().address() + ": " + statuses);
            assertTrue(statuses.stream().allMatch(s -> s == MemberStatus.up()), statuses.toString());
            return null;
        });
    }

    private Config nodeConfig(String provider) {
        return ConfigFactory.parseString("""
                        pekko.actor.provider = %s
                        pekko.actor.allow-java-serialization = off
                        pekko.actor.warn-about-java-serializer-usage = on
                        pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
                        pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
                        pekko.remote.artery.canonical.hostname = "127.0.0.1"
                        pekko.remote.artery.canonical.port = 0
                        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                        pekko.coordinated-shutdown.exit-jvm = off
                        """.formatted(provider))
                .withFallback(server.journalConfig())
                .withFallback(ConfigFactory.load());
    }

    private static List<String> strings(Statement st, String query) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(query)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
