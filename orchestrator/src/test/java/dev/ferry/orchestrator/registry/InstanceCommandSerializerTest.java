package dev.ferry.orchestrator.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.protocol.v1.CheckpointRequest;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.LaunchRequest;
import dev.ferry.protocol.v1.MigrateRequest;
import dev.ferry.protocol.v1.RestoreRequest;
import java.io.NotSerializableException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InstanceCommandSerializerTest {
    private final InstanceCommandSerializer serializer = new InstanceCommandSerializer();

    private Object roundTrip(Object o) throws Exception {
        return serializer.fromBinary(serializer.toBinary(o), serializer.manifest(o));
    }

    @Test
    void everyCommandThatCrossesNodesSurvivesTheTrip() throws Exception {
        InstanceList h1 = InstanceList.newBuilder().setHost("h1").addInstances(InstanceInfo.newBuilder()
                .setInstanceId("web").setState("RUNNING").setEpoch(3)).build();
        for (Object o : List.of(
                new InstanceEntity.Launch(LaunchRequest.newBuilder().setInstanceId("web").setGuest("heartbeat")
                        .setMemoryBytes(1 << 28).putArgs("interval_ms", "50").setReplyTo("ref").build()),
                new InstanceEntity.Migrate(MigrateRequest.newBuilder().setInstanceId("web").setTargetHost("h2").build()),
                new InstanceEntity.Get("pekko://ferry@127.0.0.1:1/temp/x"),
                new InstanceEntity.Checkpoint(CheckpointRequest.newBuilder().setInstanceId("web").build()),
                new InstanceEntity.Restore(RestoreRequest.newBuilder().setInstanceId("web").setFrom("/c/f").build()),
                new InstanceEntity.Observe(Map.of("h1", h1), Set.of("h1", "h2")))) {
            assertEquals(o, roundTrip(o));
        }
    }

    @Test
    void refusesBytesThatAreNotACommand() {
        assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[] {(byte) 0xff, 1, 2}, "ic1"));
        assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[0], "ic1"));
        assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[0], "other"));
    }
}
