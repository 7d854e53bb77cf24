package dev.ferry.orchestrator.http;

import dev.ferry.vmm.memory.MemoryLayout;
import dev.ferry.vmm.memory.MemorySize;

/** Sizes and durations as operators write them in request bodies; a bad one is a 400 naming the field. */
final class Units {
    private Units() {}

    /** {@code 512M}, {@code 1G}: more than zero bytes, and a size a guest's RAM can have. */
    static long memory(String field, String text) {
        long bytes;
        try {
            bytes = MemorySize.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, field + ": " + e.getMessage());
        }
        if (bytes <= 0) {
            throw new ApiException(400, field + ": '" + text + "' is not more than zero bytes");
        }
        try {
            MemoryLayout.validate(bytes);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, field + ": " + e.getMessage());
        }
        return bytes;
    }

    /** {@code 50ms}, {@code 0.2s}, {@code 500us}, in microseconds: more than zero. */
    static long micros(String field, String text) {
        String t = text.trim();
        double scale = t.endsWith("ms") ? 1e3 : t.endsWith("us") ? 1 : t.endsWith("s") ? 1e6 : Double.NaN;
        String number = t.substring(0, Math.max(0, t.length() - (scale == 1e6 ? 1 : 2)));
        try {
            double v = Double.parseDouble(number) * scale;
            if (v >= 1 && v < Long.MAX_VALUE) {
                return (long) v;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new ApiException(400, field + ": '" + text + "' is not a duration (examples: 50ms, 0.2s)");
    }
}
