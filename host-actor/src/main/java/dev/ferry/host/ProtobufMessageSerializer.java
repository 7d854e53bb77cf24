package dev.ferry.host;

import java.lang.reflect.InvocationTargetException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.remote.serialization.ProtobufSerializer;
import scala.Option;

/**
 * Pekko's protobuf serializer (same identifier, manifest and bytes, so nodes and journals of either build read each
 * other) with two differences: it reads only Ferry's protocol messages, and bytes that do not parse as the message the manifest names are refused with an
 * {@link IllegalArgumentException} that names the message and what the parser found, instead of a bare
 * {@link InvocationTargetException} whose message is empty in the node's log.
 */
public final class ProtobufMessageSerializer extends ProtobufSerializer {
    public ProtobufMessageSerializer(ExtendedActorSystem system) {
        super(system);
    }

    /** Only Ferry's own contracts are read; Pekko would take any protobuf message class a peer names. */
    private static final String PROTOCOL_PACKAGE = "dev.ferry.protocol.";

    @Override
    public Object fromBinary(byte[] bytes, Option<Class<?>> manifest) {
        if (manifest.isDefined() && !manifest.get().getName().startsWith(PROTOCOL_PACKAGE)) {
            throw new IllegalArgumentException("refusing to read " + manifest.get().getName()
                    + ": not one of Ferry's protocol messages");
        }
        try {
            return super.fromBinary(bytes, manifest);
        } catch (RuntimeException e) {
            throw refusal(bytes, manifest, e);
        } catch (Exception e) {
            // the reflective parseFrom wraps the parser's exception; Scala does not declare it
            throw refusal(bytes, manifest, e instanceof InvocationTargetException i && i.getCause() != null
                    ? i.getCause() : e);
        }
    }

    private static RuntimeException refusal(byte[] bytes, Option<Class<?>> manifest, Throwable cause) {
        if (cause instanceof IllegalArgumentException iae && manifest.isDefined()
                && String.valueOf(iae.getMessage()).contains(manifest.get().getName())) {
            return iae; // Pekko's own refusal of a class that is not an allowed protobuf message
        }
        String type = manifest.isDefined() ? manifest.get().getName() : "a protobuf message without a manifest";
        return new IllegalArgumentException("cannot read " + bytes.length + " bytes as " + type + ": "
                + cause.getMessage(), cause);
    }
}
