package dev.ferry.host.storage;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.protocol.v1.ImageExport;
import dev.ferry.protocol.v1.ImageList;
import dev.ferry.protocol.v1.ListImages;
import dev.ferry.storage.nbd.NbdExport;
import dev.ferry.storage.nbd.NbdServer;
import java.io.IOException;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A storage node's face to the cluster: registered with the Receptionist under {@link #SERVICE}, it answers
 * {@link ListImages} with its NBD address and the images it serves. Lists a directory, so it runs on the blocking
 * dispatcher.
 */
public final class StorageService {
    public static final ServiceKey<GeneratedMessage> SERVICE = ServiceKey.create(GeneratedMessage.class, "ferry-storage");

    private StorageService() {}

    public static Behavior<GeneratedMessage> create(String node, NbdServer nbd) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE, ctx.getSelf()));
            ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
            return Behaviors.receive(GeneratedMessage.class)
                    .onMessage(ListImages.class, m -> {
                        if (!m.getReplyTo().isEmpty()) {
                            resolver.<GeneratedMessage>resolveActorRef(m.getReplyTo()).tell(list(node, nbd));
                        }
                        return Behaviors.same();
                    })
                    .onAnyMessage(m -> {
                        ctx.getLog().warn("storage service got a {} it does not answer", m.getClass().getSimpleName());
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    static ImageList list(String node, NbdServer nbd) {
        ImageList.Builder b = ImageList.newBuilder().setNode(node).setNbdHost(nbd.host()).setNbdPort(nbd.port());
        try {
            for (NbdExport e : nbd.exports()) {
                b.addExports(ImageExport.newBuilder().setName(e.name()).setSizeBytes(e.size()));
            }
        } catch (IOException e) {
            b.setError("cannot list images in " + nbd.directory() + ": " + e.getMessage());
        }
        return b.build();
    }
}
