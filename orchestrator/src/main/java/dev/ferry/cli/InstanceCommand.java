package dev.ferry.cli;

import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.vmm.boot.GuestImage;
import dev.ferry.vmm.memory.MemoryLayout;
import dev.ferry.vmm.memory.MemorySize;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "instance", description = "Launch and list instances in the cluster.",
        subcommands = {InstanceCommand.Launch.class, InstanceCommand.ListAll.class})
final class InstanceCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "launch", description = "Place and start an instance (on --host, or where there is room).")
    static final class Launch implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClusterOptions cluster;

        @Option(names = "--guest", required = true, description = "Built-in guest name.")
        String guest;

        @Option(names = "--memory", defaultValue = "256M", converter = MemorySizeConverter.class,
                description = "Guest RAM (default: ${DEFAULT-VALUE}).")
        long memory;

        @Option(names = "--host", description = "Launch on this host.")
        String host;

        @Option(names = "--id", description = "Instance id (default: the guest's name and a random suffix).")
        String id;

        @Option(names = "--arg", description = "Guest parameter k=v (repeatable).")
        Map<String, String> args = new LinkedHashMap<>();

        @Override
        public Integer call() throws Exception {
            GuestImage.load(guest);
            MemoryLayout.validate(memory);
            String instance = id != null ? InstanceIds.check(id) : guest + "-" + UUID.randomUUID().toString().substring(0, 6);
            try (HostClient c = cluster.join()) {
                LaunchResult r = ClusterOptions.orchestrator(c).launch(instance, guest, memory, args, host);
                if (!r.getOk()) {
                    spec.commandLine().getErr().println("ferry: " + r.getError());
                    return FerryCli.USAGE;
                }
                spec.commandLine().getOut().printf("launched %s (%s, %s) on %s%n", instance, guest,
                        MemorySize.format(memory), r.getHost());
                return FerryCli.OK;
            }
        }
    }

    @Command(name = "list", description = "Every instance, where it runs, its epoch and state.")
    static final class ListAll implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClusterOptions cluster;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            try (HostClient c = cluster.join()) {
                var status = ClusterOptions.orchestrator(c).status();
                out.printf("%-24s %-10s %-10s %-8s %-6s %s%n", "INSTANCE", "GUEST", "MEMORY", "HOST", "EPOCH", "STATE");
                for (RegisteredInstance i : status.getInstancesList()) {
                    out.printf("%-24s %-10s %-10s %-8s %-6d %s%n", i.getInstanceId(), i.getGuest(),
                            MemorySize.format(i.getMemoryBytes()), i.getHost(), i.getEpoch(), i.getState());
                }
                return FerryCli.OK;
            }
        }
    }
}
