package dev.ferry.bench;

import java.util.OptionalLong;

/** Reads the {@code key=value} fields of a guest's console line (guests/README.md). */
final class GuestLine {
    private GuestLine() {}

    /** Whether {@code line} is the guest's {@code prefix} report carrying {@code key}. */
    static boolean is(String line, String prefix, String key) {
        return line.startsWith(prefix + " ") && field(line, key).isPresent();
    }

    /** The decimal value of {@code key=} in {@code line}, if present and numeric. */
    static OptionalLong field(String line, String key) {
        for (String token : line.trim().split("\\s+")) {
            if (token.startsWith(key + "=")) {
                try {
                    return OptionalLong.of(Long.parseLong(token.substring(key.length() + 1)));
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }

    /** Like {@link #field} but fails, naming the line, when the field is missing. */
    static long require(String line, String key) {
        return field(line, key).orElseThrow(() -> new IllegalStateException(
                "guest line '" + line + "' has no numeric field " + key));
    }
}
