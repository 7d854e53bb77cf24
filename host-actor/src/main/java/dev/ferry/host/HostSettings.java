package dev.ferry.host;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How one node is set up: its name, its Artery address (127.0.0.1 unless bound elsewhere) and port, its data directory (journal, snapshots),
 * the seed nodes, the memory it may give guests, and its cluster roles.
 */
public record HostSettings(String name, String bindHost, int port, Path dataDir, List<String> seeds,
                           long memoryCapacity, List<String> roles) {
    public static final String SYSTEM_NAME = "ferry";

    public HostSettings {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
            throw new IllegalArgumentException("host name '" + name + "' must be letters, digits, '_', '.' or '-'");
        }
        seeds = List.copyOf(seeds);
        roles = List.copyOf(roles);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port");
        }
    }

    /** The Pekko configuration of this node: ferry-host.conf with this node's values on top. */
    public Config config() {
        Map<String, Object> m = new HashMap<>();
        m.put("pekko.remote.artery.canonical.hostname", bindHost);
        m.put("pekko.remote.artery.canonical.port", port);
        m.put("pekko.cluster.seed-nodes", seeds.stream().map(HostSettings::seedAddress).toList());
        m.put("pekko.cluster.roles", roles);
        m.put("pekko.persistence.journal.leveldb.dir", dataDir.resolve("journal").toString());
        m.put("pekko.persistence.snapshot-store.local.dir", dataDir.resolve("snapshots").toString());
        m.put("ferry.host.name", name);
        m.put("ferry.host.memory-capacity", memoryCapacity);
        return ConfigFactory.parseMap(m).withFallback(ClusterTls.config())
                .withFallback(ConfigFactory.parseResources("ferry-host.conf"))
                .withFallback(ConfigFactory.load());
    }

    /** {@code 127.0.0.1:2551} or a full {@code pekko://ferry@host:port} address. */
    public static String seedAddress(String seed) {
        return seed.startsWith("pekko://") ? seed : "pekko://" + SYSTEM_NAME + "@" + seed;
    }
}
