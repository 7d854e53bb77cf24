package dev.ferry.host.storage;

import dev.ferry.host.HostArgs;
import dev.ferry.host.HostSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A storage node's options: the host options ({@code --name --port --data --seeds ...}, see {@link HostArgs}) plus
 * {@code --images DIR} (default {@code DATA/images}) and {@code --nbd-port P} (default 0: any free port).
 */
public record StorageArgs(HostSettings host, Path images, int nbdPort) {
    public StorageArgs {
        if (nbdPort < 0 || nbdPort > 65535) {
            throw new IllegalArgumentException("--nbd-port " + nbdPort + " is not a TCP port");
        }
    }

    public static StorageArgs parse(String[] args) {
        List<String> rest = new ArrayList<>();
        Path images = null;
        int nbdPort = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--images") || a.equals("--nbd-port")) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("option " + a + " needs a value");
                }
                String v = args[++i];
                if (a.equals("--images")) {
                    images = Path.of(v);
                } else {
                    try {
                        nbdPort = Integer.parseInt(v);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--nbd-port " + v + " is not a number");
                    }
                }
            } else {
                rest.add(a);
            }
        }
        HostSettings host = HostArgs.parse(rest.toArray(new String[0]));
        host = new HostSettings(host.name(), host.bindHost(), host.port(), host.dataDir(), host.seeds(),
                host.memoryCapacity(), List.of("storage"));
        return new StorageArgs(host, images != null ? images : host.dataDir().resolve("images"), nbdPort);
    }
}
