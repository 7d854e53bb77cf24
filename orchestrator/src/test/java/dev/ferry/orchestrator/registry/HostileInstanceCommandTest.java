package dev.ferry.orchestrator.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.protocol.v1.CheckpointRequest;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.LaunchRequest;
import dev.ferry.protocol.v1.MigrateRequest;
import dev.ferry.protocol.v1.RestoreRequest;
import java.io.ByteArrayOutputStream;
import java.io.NotSerializableException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Instance commands from another orchestrator node: random, mutated and misnamed bytes decode to a command or are
 * refused with {@link NotSerializableException} saying what was wrong; nothing else escapes.
 */
class HostileInstanceCommandTest {
    private static final InstanceCommandSerializer SERIALIZER = new InstanceCommandSerializer();
    private static final List<Object> COMMANDS = List.of(
            new InstanceEntity.Launch(LaunchRequest.newBuilder().setInstanceId("web").setGuest("heartbeat")
                    .setMemoryBytes(1 << 28).putArgs("interval_ms", "50").setHost("h1").setImage("disk.img")
                    .setImageServer("127.0.0.1:10809").setReplyTo("pekko://ferry@127.0.0.1:1/temp/a").build()),
            new InstanceEntity.Migrate(MigrateRequest.newBuilder().setInstanceId("web").setTargetHost("h2")
                    .setReplyTo("pekko://ferry@127.0.0.1:1/temp/b").build()),
            new InstanceEntity.Get("pekko://ferry@127.0.0.1:1/temp/x"),
            new InstanceEntity.Checkpoint(CheckpointRequest.newBuilder().setInstanceId("web").build()),
            new InstanceEntity.Restore(RestoreRequest.newBuilder().setInstanceId("web").setFrom("/c/f").setHost("h3").build()),
            new InstanceEntity.Observe(Map.of("h1", InstanceList.newBuilder().setHost("h1").setMemoryCapacity(1L << 32)
                    .addInstances(InstanceInfo.newBuilder().setInstanceId("web").setState("RUNNING").setEpoch(3)).build()),
                    Set.of("h1", "h2")));

    /** A command, or a refusal that says it is about an instance command. */
    private static void decodesOrIsRefusedPrecisely(byte[] bytes, String manifest) {
        Object decoded;
        try {
            decoded = SERIALIZER.fromBinary(bytes, manifest);
        } catch (NotSerializableException refused) {
            assertTrue(refused.getMessage().contains("instance command"), refused.getMessage());
            return;
        }
        assertTrue(decoded instanceof InstanceEntity.Wire, String.valueOf(decoded));
        // whatever was accepted goes back out as the same bytes' meaning
        Object again = reread(SERIALIZER.toBinary(decoded), manifest);
        assertEquals(decoded, again);
    }

    private static Object reread(byte[] bytes, String manifest) {
        try {
            return SERIALIZER.fromBinary(bytes, manifest);
        } catch (NotSerializableException e) {
            throw new AssertionError("re-encoded command does not decode: " + e.getMessage(), e);
        }
    }

    @Property(tries = 500)
    void randomBytesDecodeToACommandOrAreRefusedPrecisely(@ForAll @Size(max = 300) byte[] bytes) {
        decodesOrIsRefusedPrecisely(bytes, "ic1");
    }

    @Property(tries = 500)
    void mutatedCommandsDecodeOrAreRefusedPrecisely(@ForAll @IntRange(min = 0, max = 5) int which,
                                                    @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int at,
                                                    @ForAll @IntRange(min = 1, max = 255) int xor,
                                                    @ForAll @IntRange(min = 0, max = 2) int how) {
        byte[] bytes = SERIALIZER.toBinary(COMMANDS.get(which));
        int i = at % bytes.length;
        switch (how) {
            case 0 -> bytes[i] ^= (byte) xor;
            case 1 -> bytes = Arrays.copyOf(bytes, i);
            default -> {
                // a length field claiming 2 GiB spliced in where a field starts or in its middle
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.write(bytes, 0, i);
                out.writeBytes(new byte[] {(byte) (xor & 0xf8 | 2), (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07});
                out.write(bytes, i, bytes.length - i);
                bytes = out.toByteArray();
            }
        }
        decodesOrIsRefusedPrecisely(bytes, "ic1");
    }

    @Property(tries = 100)
    void anyOtherManifestIsRefusedNamingIt(@ForAll("manifests") String manifest, @ForAll @IntRange(min = 0, max = 5) int which) {
        try {
            SERIALIZER.fromBinary(SERIALIZER.toBinary(COMMANDS.get(which)), manifest);
            throw new AssertionError("manifest '" + manifest + "' was accepted");
        } catch (NotSerializableException refused) {
            assertTrue(refused.getMessage().contains("'" + manifest + "'"), refused.getMessage());
        }
    }

    @Provide
    Arbitrary<String> manifests() {
        return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(20).filter(s -> !s.equals("ic1")),
                Arbitraries.of("", "ic2", "IC1", "ic1 ", "dev.ferry.protocol.v1.InstanceCommand"));
    }

    @Example
    void everyCommandSurvivesTheTrip() throws Exception {
        for (Object c : COMMANDS) {
            assertEquals(c, SERIALIZER.fromBinary(SERIALIZER.toBinary(c), SERIALIZER.manifest(c)));
        }
    }
}
