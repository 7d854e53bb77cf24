package dev.ferry.orchestrator.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a chaos run is asked to do: {@code hosts} host JVMs, {@code instances} guests kept busy with operations for
 * {@code duration}, the faults of {@code faults}, all drawn from {@code seed}; data and logs under {@code dir}.
 */
public record ChaosOptions(int hosts, int instances, Duration duration, long seed, Set<FaultKind> faults, Path dir) {
    public static final int MAX_HOSTS = 8;
    public static final int MAX_INSTANCES = 16;
    public static final Duration MIN_DURATION = Duration.ofSeconds(10);
    public static final Duration MAX_DURATION = Duration.ofHours(24);

    public ChaosOptions {
        if (hosts < 2 || hosts > MAX_HOSTS) {
            throw new IllegalArgumentException("--hosts " + hosts + ": a chaos run needs 2 to " + MAX_HOSTS
                    + " hosts (an instance must have somewhere to go)");
        }
        if (instances < 1 || instances > MAX_INSTANCES) {
            throw new IllegalArgumentException("--instances " + instances + ": use 1 to " + MAX_INSTANCES);
        }
        if (duration.compareTo(MIN_DURATION) < 0 || duration.compareTo(MAX_DURATION) > 0) {
            throw new IllegalArgumentException("--duration " + duration.toSeconds() + "s: use 10s to 24h");
        }
        faults = faults.isEmpty() ? EnumSet.noneOf(FaultKind.class) : EnumSet.copyOf(faults);
    }

    /** The names of the hosts: h1, h2, ... */
    public java.util.List<String> hostNames() {
        return java.util.stream.IntStream.rangeClosed(1, hosts).mapToObj(i -> "h" + i).toList();
    }

    /** The names of the instances launched at the start: i1, i2, ... */
    public java.util.List<String> instanceNames() {
        return java.util.stream.IntStream.rangeClosed(1, instances).mapToObj(i -> "i" + i).toList();
    }

    /** Whether nodes need network namespaces of their own (for partitions). */
    public boolean needsNamespaces() {
        return faults.contains(FaultKind.PARTITION);
    }
}
