package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.MemoryLayout;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a checkpoint says about itself (its META section): its id, its parent (none for a full checkpoint),
 * when it was made, the VM and guest it holds, the guest's memory size, and free key/values such as the disk
 * image's path.
 */
public record CheckpointMeta(String id, Optional<ParentRef> parent, Instant created, String vmName,
                             String guestName, long memorySize, Map<String, String> attributes) {
    static final int MAX_TEXT = 4096;

    public CheckpointMeta {
        requireText("checkpoint id", id);
        MemoryLayout.validate(memorySize);
        attributes = Map.copyOf(new TreeMap<>(attributes));
        if (vmName.length() > MAX_TEXT || guestName.length() > MAX_TEXT) {
            throw new IllegalArgumentException("VM or guest name longer than " + MAX_TEXT + " characters");
        }
    }

    /** Metadata of a full checkpoint. */
    public static CheckpointMeta full(String id, Instant created, String vmName, String guestName, long memorySize,
                                      Map<String, String> attributes) {
        return new CheckpointMeta(id, Optional.empty(), created, vmName, guestName, memorySize, attributes);
    }

    /** Metadata of an incremental checkpoint over {@code parent}, for the same VM and memory size. */
    public CheckpointMeta child(String childId, ParentRef parentRef, Instant childCreated) {
        return new CheckpointMeta(childId, Optional.of(parentRef), childCreated, vmName, guestName, memorySize,
                attributes);
    }

    public boolean isIncremental() {
        return parent.isPresent();
    }

    public long pageCount() {
        return memorySize >>> 12;
    }

    static void requireText(String what, String value) {
        if (value.isEmpty() || value.length() > 256 || value.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException(what + " '" + value + "' must be 1 to 256 printable characters");
        }
    }
}
