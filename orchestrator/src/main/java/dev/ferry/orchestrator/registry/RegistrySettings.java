package dev.ferry.orchestrator.registry;

import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.Instant;

/**
 * Where the registry asks hosts to write checkpoints: {@code DIR/INSTANCE/e<EPOCH>-<UTC time>.ferry}. The directory must
 * be one every host can read and write (a shared file system beyond one machine), so any host can restore.
 */
public record RegistrySettings(Path checkpointDir) {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);

    public RegistrySettings {
        checkpointDir = checkpointDir.toAbsolutePath().normalize();
    }

    public Path checkpointPath(String instanceId, long epoch) {
        return checkpointDir.resolve(instanceId).resolve("e" + epoch + "-" + STAMP.format(Instant.now()) + ".ferry");
    }
}
