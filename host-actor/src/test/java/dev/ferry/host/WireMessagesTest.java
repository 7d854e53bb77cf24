package dev.ferry.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.GeneratedMessage;
import com.typesafe.config.ConfigFactory;
import dev.ferry.protocol.ProtocolVersions;
import dev.ferry.protocol.v1.Abort;
import dev.ferry.protocol.v1.Commit;
import dev.ferry.protocol.v1.FinalState;
import dev.ferry.protocol.v1.InstanceLaunched;
import dev.ferry.protocol.v1.LaunchInstance;
import dev.ferry.protocol.v1.MigrateInstance;
import dev.ferry.protocol.v1.MigrationAccept;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationOffer;
import dev.ferry.protocol.v1.MigrationOutCommitted;
import dev.ferry.protocol.v1.PageBatch;
import java.io.Serializable;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.remote.serialization.ProtobufSerializer;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** What crosses nodes is protobuf through Pekko's protobuf serializer, and Java serialization is off. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WireMessagesTest {
    private ActorSystem<Void> system;
    private Serialization serialization;

    @BeforeAll
    void start() {
        system = ActorSystem.create(Behaviors.empty(), "wire", ConfigFactory.parseString(
                "pekko.actor.provider = local").withFallback(ConfigFactory.parseResources("ferry-host.conf")));
        serialization = SerializationExtension.get(system.classicSystem());
    }

    @AfterAll
    void stop() {
        system.terminate();
    }

    @Test
    void everyMessageAndEventSurvivesSerialization() {
        List<GeneratedMessage> messages = List.of(
                LaunchInstance.newBuilder().setInstanceId("i").setGuest("heartbeat").setMemoryBytes(1 << 24)
                        .putArgs("interval_ms", "20").setReplyTo("ref").build(),
                MigrateInstance.newBuilder().setMigrationId("m").setInstanceId("i").setTargetRef("t").build(),
                MigrationOffer.newBuilder().setMigrationId("m").setVersion(ProtocolVersions.current()).build(),
                MigrationAccept.newBuilder().setMigrationId("m").setPort(1234).build(),
                PageBatch.newBuilder().setSeq(3).addPages(7).build(),
                FinalState.newBuilder().setMigrationId("m").setBatches(9).build(),
                Commit.newBuilder().setMigrationId("m").setEpoch(2).build(),
                Abort.newBuilder().setMigrationId("m").setReason("why").build(),
                MigrationDone.newBuilder().setMigrationId("m").setOk(true).build(),
                InstanceLaunched.newBuilder().setInstanceId("i").setEpoch(1).build(),
                MigrationOutCommitted.newBuilder().setMigrationId("m").setEpoch(2).build());
        for (GeneratedMessage m : messages) {
            var serializer = serialization.findSerializerFor(m);
            assertTrue(serializer instanceof ProtobufSerializer && serializer.identifier() == 2,
                    m.getClass().getSimpleName() + " uses " + serializer.getClass().getName());
            byte[] bytes = serialization.serialize(m).get();
            Object back = serialization.deserialize(bytes, serializer.identifier(),
                    Serializers.manifestFor(serializer, m)).get();
            assertEquals(m, back);
        }
    }

    @Test
    void javaSerializationIsRefused() {
        record Plain(int x) implements Serializable {}
        assertThrows(Exception.class, () -> serialization.serialize(new Plain(1)).get());
    }
}
