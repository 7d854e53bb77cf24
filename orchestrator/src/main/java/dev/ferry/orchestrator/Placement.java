package dev.ferry.orchestrator;

import dev.ferry.protocol.v1.InstanceList;
import dev.ferry.vmm.CpuFeatures;
import dev.ferry.vmm.memory.MemorySize;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Chooses a host: the one the operator named (which must exist, have room and offer every CPU feature the instance
 * may use), or the host with the most free memory that can take the instance, never {@code exclude} (the host it
 * runs on). Admission happens here, before anything moves. Answers with the chosen host's own report.
 */
public final class Placement {
    private Placement() {}

    public static CompletableFuture<String> choose(HostDirectory directory, String named, long memory,
                                                   Optional<String> exclude) {
        return chooseHost(directory, named, memory, exclude, List.of()).thenApply(InstanceList::getHost);
    }

    public static CompletableFuture<InstanceList> chooseHost(HostDirectory directory, String named, long memory,
                                                             Optional<String> exclude, List<String> features) {
        return CompletableFuture.supplyAsync(() -> {
            List<InstanceList> hosts = directory.listAll();
            if (!named.isEmpty()) {
                InstanceList h = hosts.stream().filter(l -> l.getHost().equals(named)).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("unknown host " + named + "; hosts: "
                                + hosts.stream().map(InstanceList::getHost).sorted().toList()));
                List<String> lacking = CpuFeatures.missing(features, h.getCpuFeaturesList());
                if (!lacking.isEmpty()) {
                    throw new IllegalArgumentException("host " + named + " lacks CPU features " + lacking
                            + " the instance may use");
                }
                if (h.getMemoryFree() < memory) {
                    throw new IllegalArgumentException("host " + named + " has " + MemorySize.format(h.getMemoryFree())
                            + " free; the instance needs " + MemorySize.format(memory));
                }
                return h;
            }
            return hosts.stream().filter(l -> exclude.map(x -> !x.equals(l.getHost())).orElse(true))
                    .filter(l -> CpuFeatures.missing(features, l.getCpuFeaturesList()).isEmpty())
                    .filter(l -> l.getMemoryFree() >= memory)
                    .max(Comparator.comparingLong(InstanceList::getMemoryFree))
                    .orElseThrow(() -> new IllegalArgumentException("no host has " + MemorySize.format(memory)
                            + " free" + (features.isEmpty() ? "" : " and the instance's CPU features") + hosts.stream().map(l -> l.getHost() + ": " + MemorySize.format(l.getMemoryFree()))
                            .sorted().reduce((a, b) -> a + ", " + b).map(s -> " (" + s + ")").orElse(" (no hosts)")));
        });
    }
}
