package dev.ferry.host;

import dev.ferry.vmm.memory.MemorySize;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Parses {@code --name h1 --port P --data DIR --seeds a:p,b:p [--memory-capacity 8G] [--roles host] [--bind ADDR]}
 * ({@code --bind}: the address the node listens on and is reached at; 127.0.0.1 unless given).
 */
public final class HostArgs {
    private HostArgs() {}

    public static HostSettings parse(String[] args) {
        String name = null;
        int port = 0;
        Path data = null;
        List<String> seeds = new ArrayList<>();
        long capacity = defaultCapacity();
        List<String> roles = List.of("host");
        String bind = "127.0.0.1";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--name" -> name = v;
                case "--port" -> port = Integer.parseInt(v);
                case "--data" -> data = Path.of(v);
                case "--seeds" -> seeds.addAll(Arrays.stream(v.split(",")).filter(x -> !x.isBlank()).toList());
                case "--memory-capacity" -> capacity = MemorySize.parse(v);
                case "--roles" -> roles = Arrays.asList(v.split(","));
                case "--bind" -> bind = v;
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (name == null || data == null) {
            throw new IllegalArgumentException("--name and --data are required");
        }
        return new HostSettings(name, bind, port, data, seeds, capacity, roles);
    }

    /** The host's physical memory less 2 GiB for itself, as guests' memory costs nothing until touched. */
    static long defaultCapacity() {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return Math.max(1L << 30, os.getTotalMemorySize() - (2L << 30));
    }
}
