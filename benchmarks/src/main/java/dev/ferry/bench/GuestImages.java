package dev.ferry.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The guests' Multiboot images ({@code <name>.mb.elf}, the flat image Ferry runs plus a boot stub; guests/README.md)
 * from the class path (the ferry-guests jar), extracted to a temporary directory that {@link #close()} deletes.
 */
final class GuestImages implements AutoCloseable {
    private static final String RESOURCES = "dev/ferry/guests/";
    private final Path dir;
    private final Map<String, Path> extracted = new HashMap<>();

    GuestImages() {
        try {
            dir = Files.createTempDirectory("ferry-guest-images");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for guest images", e);
        }
    }

    /** The Multiboot image of guest {@code name}, for QEMU's {@code -kernel}. */
    synchronized Path multiboot(String name) {
        return extracted.computeIfAbsent(name, n -> {
            String resource = RESOURCES + n + ".mb.elf";
            try (InputStream in = GuestImages.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("no " + resource + " on the class path: the ferry-guests jar "
                            + "holds it when gcc built the guests (mvn -pl guests package)");
                }
                Path p = dir.resolve(n + ".mb.elf");
                Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
                return p;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot extract " + resource + " to " + dir, e);
            }
        });
    }

    @Override
    public synchronized void close() throws IOException {
        for (Path p : extracted.values()) {
            Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }
}
