package dev.ferry.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import com.typesafe.config.ConfigFactory;
import dev.ferry.protocol.v1.FinalState;
import dev.ferry.protocol.v1.ImageList;
import dev.ferry.protocol.v1.InstanceLaunched;
import dev.ferry.protocol.v1.LaunchInstance;
import dev.ferry.protocol.v1.LaunchRequest;
import dev.ferry.protocol.v1.MigrationOffer;
import dev.ferry.protocol.v1.StreamHeader;
import java.io.ByteArrayOutputStream;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import scala.util.Try;

/**
 * Every protobuf message a node reads from a peer or from its journal (host, migration, storage and orchestrator
 * messages, host and registry events) goes through the serializers this node is configured with. Random and mutated
 * bytes, length fields blown up, and manifests naming the wrong class are refused with an exception that names the
 * type (what Pekko logs when it drops a peer's message, or fails a journal's recovery); nothing throws an
 * {@link Error}.
 */
class HostilePeerMessagesTest {
    private static final String PACKAGE = "dev.ferry.protocol.v1.";
    private static ActorSystem<Void> system;
    private static Serialization serialization;
    private static Serializer protobuf;
    private static List<Message> samples;

    @BeforeContainer
    static void start() {
        system = ActorSystem.create(Behaviors.empty(), "hostile-peer", ConfigFactory.parseString(
                "pekko.actor.provider = local\npekko.loglevel = ERROR")
                .withFallback(ConfigFactory.parseResources("ferry-host.conf")).withFallback(ConfigFactory.load()));
        serialization = SerializationExtension.get(system.classicSystem());
        protobuf = serialization.findSerializerFor(LaunchInstance.getDefaultInstance());
        samples = new ArrayList<>();
        for (Descriptors.FileDescriptor file : List.of(LaunchInstance.getDescriptor().getFile(),
                InstanceLaunched.getDescriptor().getFile(), MigrationOffer.getDescriptor().getFile(),
                LaunchRequest.getDescriptor().getFile(), ImageList.getDescriptor().getFile(),
                StreamHeader.getDescriptor().getFile())) {
            for (Descriptors.Descriptor d : file.getMessageTypes()) {
                samples.add(filled(messageClass(d)));
            }
        }
    }

    @AfterContainer
    static void stop() {
        system.terminate();
    }

    private static Class<? extends Message> messageClass(Descriptors.Descriptor d) {
        try {
            return Class.forName(PACKAGE + d.getName()).asSubclass(Message.class);
        } catch (ClassNotFoundException e) {
            throw new AssertionError("no class for " + d.getFullName(), e);
        }
    }

    /** A message of {@code type} with every field set (maps, lists and nested messages one deep). */
    private static Message filled(Class<? extends Message> type) {
        try {
            Message.Builder b = ((Message) type.getMethod("getDefaultInstance").invoke(null)).newBuilderForType();
            fill(b, new SplittableRandom(type.getName().hashCode()), 2);
            return b.build();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static void fill(Message.Builder b, SplittableRandom r, int depth) {
        for (Descriptors.FieldDescriptor f : b.getDescriptorForType().getFields()) {
            if (f.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE) {
                if (depth == 0) {
                    continue;
                }
                Message.Builder nested = b.newBuilderForField(f);
                fill(nested, r, depth - 1);
                if (f.isRepeated()) {
                    b.addRepeatedField(f, nested.build());
                    b.addRepeatedField(f, nested.build());
                } else {
                    b.setField(f, nested.build());
                }
                continue;
            }
            Object v = switch (f.getJavaType()) {
                case INT -> r.nextInt(1, 1 << 20);
                case LONG -> r.nextLong(1, 1L << 40);
                case FLOAT -> (float) r.nextDouble();
                case DOUBLE -> r.nextDouble();
                case BOOLEAN -> true;
                case STRING -> f.getName() + "-" + r.nextInt(1000);
                case BYTE_STRING -> ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
                case ENUM -> f.getEnumType().getValues().get(f.getEnumType().getValues().size() - 1);
                default -> throw new AssertionError(f.getJavaType());
            };
            if (f.isRepeated()) {
                b.addRepeatedField(f, v);
                b.addRepeatedField(f, v);
            } else {
                b.setField(f, v);
            }
        }
    }

    private static Try<Object> read(byte[] bytes, String manifest) {
        return serialization.deserialize(bytes, protobuf.identifier(), manifest);
    }

    /** Either a message of the type the manifest names, or a refusal that names it; never an Error. */
    private static void assertReadOrRefusedPrecisely(byte[] bytes, String manifest) {
        Try<Object> t;
        try {
            t = read(bytes, manifest);
        } catch (Throwable e) {
            throw new AssertionError("deserializing " + manifest + " threw out of Try: " + e, e);
        }
        if (t.isSuccess()) {
            assertEquals(manifest, t.get().getClass().getName());
            return;
        }
        assertPreciseRefusal(t.failed().get(), manifest);
    }

    /** A refusal as Pekko logs it for a peer's message or a journal's event: of a kind it expects, naming the type. */
    private static void assertPreciseRefusal(Throwable e, String manifest) {
        assertTrue(e instanceof IllegalArgumentException || e instanceof NotSerializableException
                || e instanceof ClassNotFoundException, manifest + ": " + e);
        assertTrue(e.getMessage() != null && e.getMessage().contains(manifest), "'" + e.getMessage() + "' names " + manifest);
    }

    @Provide
    Arbitrary<Integer> messageIndex() {
        return Arbitraries.integers().between(0, 1000);
    }

    private static Message sample(int index) {
        return samples.get(index % samples.size());
    }

    @Example
    void everyFilledMessageSurvivesTheTrip() {
        assertTrue(samples.size() > 60, "messages found: " + samples.size());
        for (Message m : samples) {
            Serializer s = serialization.findSerializerFor(m);
            assertEquals(protobuf.identifier(), s.identifier(), m.getClass().getName());
            byte[] bytes = serialization.serialize(m).get();
            assertEquals(m, read(bytes, Serializers.manifestFor(s, m)).get());
        }
    }

    @Property(tries = 300)
    void randomBytesAreReadOrRefusedNamingTheType(@ForAll("messageIndex") int which, @ForAll @Size(max = 200) byte[] bytes) {
        assertReadOrRefusedPrecisely(bytes, sample(which).getClass().getName());
    }

    @Property(tries = 400)
    void mutatedMessagesAreReadOrRefusedNamingTheType(@ForAll("messageIndex") int which,
                                                       @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int at,
                                                       @ForAll @IntRange(min = 1, max = 255) int xor,
                                                       @ForAll @IntRange(min = 0, max = 3) int how) {
        Message m = sample(which);
        byte[] bytes = m.toByteArray();
        if (bytes.length == 0) {
            return;
        }
        int i = at % bytes.length;
        switch (how) {
            case 0 -> bytes[i] ^= (byte) xor;                                  // a flipped byte
            case 1 -> bytes = Arrays.copyOf(bytes, i);                         // cut short
            case 2 -> bytes = splice(bytes, i, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07});
            default -> bytes = splice(bytes, i, new byte[] {(byte) (xor | 0x80), (byte) 0x80, (byte) 0x80, (byte) 0x80,
                (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}); // an over-long varint
        }
        assertReadOrRefusedPrecisely(bytes, m.getClass().getName());
    }

    private static byte[] splice(byte[] bytes, int at, byte[] insert) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, at);
        out.writeBytes(insert);
        out.write(bytes, at, bytes.length - at);
        return out.toByteArray();
    }

    @Example
    void aLengthFieldOfTwoGigabytesIsRefusedWithoutAllocatingIt() {
        // field 2 (bytes), length 0x7fffffff, then nothing
        byte[] bytes = {0x12, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
        for (Message m : samples) {
            assertReadOrRefusedPrecisely(bytes, m.getClass().getName());
        }
        Try<Object> t = read(bytes, FinalState.class.getName());
        assertFalse(t.isSuccess());
        assertTrue(t.failed().get().getMessage().contains("truncated"), t.failed().get().getMessage());
    }

    @Example
    void nestingBeyondTheRecursionLimitIsRefused() {
        // FinalState has no nested message at field 1, so an unknown group nested 200 deep: start-group tags
        byte[] bytes = new byte[400];
        for (int i = 0; i < 200; i++) {
            bytes[i] = 0x0b;        // field 1, start group
            bytes[399 - i] = 0x0c;  // field 1, end group
        }
        assertReadOrRefusedPrecisely(bytes, FinalState.class.getName());
        assertReadOrRefusedPrecisely(bytes, LaunchInstance.class.getName());
    }

    @Property(tries = 100)
    void aManifestNamingAnotherClassIsRefusedNamingIt(@ForAll("foreignClasses") String manifest,
                                                       @ForAll @Size(max = 64) byte[] bytes) {
        Try<Object> t = read(bytes, manifest);
        assertFalse(t.isSuccess(), manifest + " was instantiated");
        assertPreciseRefusal(t.failed().get(), manifest);
    }

    @Provide
    Arbitrary<String> foreignClasses() {
        return Arbitraries.of(
                "java.lang.Runtime", "java.lang.ProcessBuilder", "java.lang.String", "java.io.File",
                "com.google.protobuf.Empty", "com.google.protobuf.Any", "com.google.protobuf.ByteString",
                "dev.ferry.host.HostNode", "dev.ferry.protocol.v1.NoSuchMessage", "dev.ferry.protocol.v1.MachineProto",
                "", "[B", "dev.ferry.protocol.v1.LaunchInstance$Builder", "dev.ferry.protocol.v1.StreamKind",
                "org.apache.pekko.actor.Kill$", String.join("", java.util.Collections.nCopies(300, "x.")) + "Y");
    }

    @Example
    void eventsAndMessagesDecodeToTheirTypeFromTheirOwnManifestOnly() {
        // a journal whose manifest was damaged reads a valid event as the wrong type, or refuses it: never crashes
        Map<String, byte[]> wire = Map.of(
                InstanceLaunched.class.getName(), InstanceLaunched.newBuilder().setInstanceId("web").setEpoch(3).build().toByteArray(),
                LaunchInstance.class.getName(), LaunchInstance.newBuilder().setInstanceId("web").setMemoryBytes(1L << 30).build().toByteArray());
        for (byte[] bytes : wire.values()) {
            for (Message m : samples) {
                assertReadOrRefusedPrecisely(bytes, m.getClass().getName());
            }
        }
    }
}
