package dev.ferry.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** One guest program to run: its name (guests/README.md), RAM size and arguments, the same on both VMMs. */
record GuestSpec(String name, long ramMib, Map<String, String> args) {
    GuestSpec {
        args = new LinkedHashMap<>(args);
    }

    static GuestSpec of(String name, long ramMib, String... keyValues) {
        if (keyValues.length % 2 != 0) {
            throw new IllegalArgumentException("arguments come in key, value pairs");
        }
        Map<String, String> args = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            args.put(keyValues[i], keyValues[i + 1]);
        }
        return new GuestSpec(name, ramMib, args);
    }

    long ramBytes() {
        return ramMib << 20;
    }

    /** The boot-info argument string, {@code k=v k=v}. */
    String argString() {
        return args.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }

    @Override
    public String toString() {
        return name + " (" + ramMib + " MiB" + (args.isEmpty() ? "" : ", " + argString()) + ")";
    }
}
