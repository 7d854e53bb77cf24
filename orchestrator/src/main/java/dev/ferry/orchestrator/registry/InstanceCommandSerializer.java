package dev.ferry.orchestrator.registry;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.protocol.v1.InstanceCommand;
import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.protocol.v1.InstanceRequest;
import dev.ferry.protocol.v1.Observation;
import java.io.NotSerializableException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Instance-entity commands on the wire between orchestrator nodes, as one protobuf envelope ({@code InstanceCommand}
 * in orchestrator.proto), so sharded entities can live on any orchestrator node with Java serialization off.
 */
public final class InstanceCommandSerializer extends SerializerWithStringManifest {
    private static final String MANIFEST = "ic1";

    @Override
    public int identifier() {
        return 0x66_65_72_01; // "fer" + 1: unique among this system's serializers
    }

    @Override
    public String manifest(Object o) {
        return MANIFEST;
    }

    @Override
    public byte[] toBinary(Object o) {
        InstanceCommand.Builder b = InstanceCommand.newBuilder();
        if (o instanceof InstanceEntity.Launch l) {
            b.setLaunch(l.request());
        } else if (o instanceof InstanceEntity.Migrate m) {
            b.setMigrate(m.request());
        } else if (o instanceof InstanceEntity.Get g) {
            b.setGet(InstanceRequest.newBuilder().setReplyTo(g.replyTo()));
        } else if (o instanceof InstanceEntity.Checkpoint c) {
            b.setCheckpoint(c.request());
        } else if (o instanceof InstanceEntity.Restore r) {
            b.setRestore(r.request());
        } else if (o instanceof InstanceEntity.Observe ob) {
            b.setObserve(Observation.newBuilder().addAllLists(ob.lists().values()).addAllPresent(ob.present()));
        } else {
            throw new IllegalArgumentException("cannot serialize " + o.getClass().getName());
        }
        return b.build().toByteArray();
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        if (!MANIFEST.equals(manifest)) {
            throw new NotSerializableException("unknown instance command manifest '" + manifest + "'");
        }
        InstanceCommand c;
        try {
            c = InstanceCommand.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new NotSerializableException("malformed instance command: " + e.getMessage());
        }
        return switch (c.getCommandCase()) {
            case LAUNCH -> new InstanceEntity.Launch(c.getLaunch());
            case MIGRATE -> new InstanceEntity.Migrate(c.getMigrate());
            case GET -> new InstanceEntity.Get(c.getGet().getReplyTo());
            case CHECKPOINT -> new InstanceEntity.Checkpoint(c.getCheckpoint());
            case RESTORE -> new InstanceEntity.Restore(c.getRestore());
            case OBSERVE -> {
                Map<String, InstanceList> lists = new LinkedHashMap<>();
                c.getObserve().getListsList().forEach(l -> lists.put(l.getHost(), l));
                yield new InstanceEntity.Observe(lists, new LinkedHashSet<>(c.getObserve().getPresentList()));
            }
            case COMMAND_NOT_SET -> throw new NotSerializableException("instance command without a command");
        };
    }
}
