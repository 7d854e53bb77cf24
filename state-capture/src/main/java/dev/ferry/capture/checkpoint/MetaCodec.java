package dev.ferry.capture.checkpoint;

import dev.ferry.protocol.v1.MachineProto;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.Optional;

/** {@link CheckpointMeta} to and from the {@code CheckpointMeta} message of {@code machine.proto}. */
final class MetaCodec {
    private MetaCodec() {}

    static MachineProto.CheckpointMeta encode(CheckpointMeta m) {
        MachineProto.CheckpointMeta.Builder b = MachineProto.CheckpointMeta.newBuilder()
                .setCheckpointId(m.id())
                .setCreatedSeconds(m.created().getEpochSecond()).setCreatedNanos(m.created().getNano())
                .setVmName(m.vmName()).setGuestName(m.guestName()).setMemorySize(m.memorySize())
                .putAllAttributes(m.attributes());
        m.parent().ifPresent(p -> b.setParentId(p.id()).setParentFile(p.fileName()));
        return b.build();
    }

    /** Decodes {@code m}; an {@link IllegalArgumentException} says what is wrong with it. */
    static CheckpointMeta decode(MachineProto.CheckpointMeta m) {
        boolean hasParent = !m.getParentId().isEmpty() || !m.getParentFile().isEmpty();
        Optional<ParentRef> parent = hasParent
                ? Optional.of(new ParentRef(m.getParentId(), m.getParentFile())) : Optional.empty();
        if (m.getCreatedNanos() < 0 || m.getCreatedNanos() > 999_999_999) {
            throw new IllegalArgumentException("creation time has " + m.getCreatedNanos() + " nanoseconds");
        }
        Instant created;
        try {
            created = Instant.ofEpochSecond(m.getCreatedSeconds(), m.getCreatedNanos());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("creation time " + m.getCreatedSeconds() + " s is out of range");
        }
        return new CheckpointMeta(m.getCheckpointId(), parent, created, m.getVmName(), m.getGuestName(),
                m.getMemorySize(), m.getAttributesMap());
    }
}
