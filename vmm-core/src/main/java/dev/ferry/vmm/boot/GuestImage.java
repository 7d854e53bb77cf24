package dev.ferry.vmm.boot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A guest program: a flat binary linked at {@link GuestAbi#IMAGE_BASE}. Named guests come from the
 * class path ({@code dev/ferry/guests/NAME.bin}, built from {@code guests/} by the build); a path to a
 * {@code .bin} file is loaded as is.
 */
public record GuestImage(String name, byte[] bytes) {
    private static final String RESOURCE_DIR = "dev/ferry/guests/";
    public static final int MAX_SIZE = 64 << 20;

    public GuestImage {
        bytes = bytes.clone();
        if (bytes.length == 0) {
            throw new IllegalArgumentException("guest image '" + name + "' is empty");
        }
        if (bytes.length > MAX_SIZE) {
            throw new IllegalArgumentException("guest image '" + name + "' is " + bytes.length + " bytes; the limit is "
                    + MAX_SIZE);
        }
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    int length() {
        return bytes.length;
    }

    byte[] raw() {
        return bytes;
    }

    /** Loads a built-in guest by name, or a {@code .bin} file by path. */
    public static GuestImage load(String nameOrPath) {
        if (nameOrPath.endsWith(".bin") || nameOrPath.contains("/")) {
            Path p = Path.of(nameOrPath);
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("guest image file " + nameOrPath + " does not exist");
            }
            try {
                long size = Files.size(p);
                if (size > MAX_SIZE) {
                    throw new IllegalArgumentException("guest image file " + nameOrPath + " is " + size
                            + " bytes; the limit is " + MAX_SIZE);
                }
                return new GuestImage(p.getFileName().toString().replaceFirst("\\.bin$", ""), Files.readAllBytes(p));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read guest image " + nameOrPath, e);
            }
        }
        try (InputStream in = GuestImage.class.getClassLoader().getResourceAsStream(RESOURCE_DIR + nameOrPath + ".bin")) {
            if (in == null) {
                throw new IllegalArgumentException("unknown guest '" + nameOrPath + "'; built-in guests: "
                        + String.join(", ", builtIn()));
            }
            return new GuestImage(nameOrPath, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read built-in guest " + nameOrPath, e);
        }
    }

    /** The names of the built-in guests, from the index the guest build writes. */
    public static List<String> builtIn() {
        try (InputStream in = GuestImage.class.getClassLoader().getResourceAsStream(RESOURCE_DIR + "index.txt")) {
            if (in == null) {
                return List.of();
            }
            return Arrays.stream(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\\s+"))
                    .filter(s -> !s.isBlank()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the guest index", e);
        }
    }
}
