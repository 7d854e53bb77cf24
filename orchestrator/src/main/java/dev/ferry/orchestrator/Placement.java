package dev.ferry.orchestrator;

import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.vmm.memory.MemorySize;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Chooses a host: the one the operator named (which must exist and have room), or the host with the most free
 * memory that can take the instance, never {@code exclude} (the host it runs on). Admission happens here, before
 * anything moves.
 */
public final class Placement {
    private Placement() {}

    public static CompletableFuture<String> choose(HostDirectory directory, String named, long memory,
                                                   Optional<String> exclude) {
        return CompletableFuture.supplyAsync(() -> {
            List<InstanceList> hosts = directory.listAll();
            if (!named.isEmpty()) {
                InstanceList h = hosts.stream().filter(l -> l.getHost().equals(named)).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("unknown host " + named + "; hosts: "
                                + hosts.stream().map(InstanceList::getHost).sorted().toList()));
                if (h.getMemoryFree() < memory) {
                    throw new IllegalArgumentException("host " + named + " has " + MemorySize.format(h.getMemoryFree())
                            + " free; the instance needs " + MemorySize.format(memory));
                }
                return named;
            }
            return hosts.stream().filter(l -> exclude.map(x -> !x.equals(l.getHost())).orElse(true))
                    .filter(l -> l.getMemoryFree() >= memory)
                    .max(Comparator.comparingLong(InstanceList::getMemoryFree)).map(InstanceList::getHost)
                    .orElseThrow(() -> new IllegalArgumentException("no host has " + MemorySize.format(memory)
                            + " free" + hosts.stream().map(l -> l.getHost() + ": " + MemorySize.format(l.getMemoryFree()))
                            .sorted().reduce((a, b) -> a + ", " + b).map(s -> " (" + s + ")").orElse(" (no hosts)")));
        });
    }
}
