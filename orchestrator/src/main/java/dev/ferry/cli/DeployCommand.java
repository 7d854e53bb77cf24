package dev.ferry.cli;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.ImageExport;
import dev.ferry.protocol.v1.ImageList;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.vmm.boot.GuestImage;
import dev.ferry.vmm.memory.MemoryLayout;
import dev.ferry.vmm.memory.MemorySize;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "deploy", description = "Boot an instance at once from an image on a storage node: its disk streams "
        + "in over NBD while a background copy fills the host's disk; then the disk is local and virtualization OFF.")
final class DeployCommand implements Callable<Integer> {
    private static final double MIB = 1 << 20;

    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    @Option(names = "--image", required = true, description = "The image (an export of the storage node).")
    String image;

    @Option(names = "--memory", defaultValue = "512M", converter = MemorySizeConverter.class,
            description = "Guest RAM (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--host", description = "Deploy on this host (default: where there is room).")
    String host;

    @Option(names = "--id", description = "Instance id (default: the image's name and a random suffix).")
    String id;

    @Option(names = "--guest", defaultValue = "reader", description = "The guest program that boots from the disk "
            + "(default: ${DEFAULT-VALUE}).")
    String guest;

    @Option(names = "--arg", description = "Guest parameter k=v (repeatable).")
    Map<String, String> args = new LinkedHashMap<>();

    @Option(names = "--copy-rate", converter = MemorySizeConverter.class, defaultValue = "0",
            description = "Background copy limit per second, e.g. 200M (default: unlimited).")
    long copyRate;

    @Option(names = "--timeout", defaultValue = "3600", description = "Seconds to wait for the copy (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        GuestImage.load(guest);
        MemoryLayout.validate(memory);
        if (id != null) {
            InstanceIds.check(id);
        }
        if (timeoutSeconds < 1 || timeoutSeconds > 1_000_000) {
            throw new IllegalArgumentException("--timeout must be 1 to 1000000 seconds, not " + timeoutSeconds);
        }
        try (HostClient c = cluster.join()) {
            ImageList images = c.images(Duration.ofSeconds(30));
            if (!images.getError().isEmpty()) {
                err.println("ferry: storage node " + images.getNode() + ": " + images.getError());
                return FerryCli.GUEST_FAILED;
            }
            Optional<ImageExport> export = images.getExportsList().stream().filter(e -> e.getName().equals(image))
                    .findFirst();
            if (export.isEmpty()) {
                err.println("ferry: image '" + image + "' not found on storage node " + images.getNode() + " (nbd "
                        + images.getNbdHost() + ":" + images.getNbdPort() + "); it serves "
                        + (images.getExportsCount() == 0 ? "no images" : images.getExportsList().stream()
                        .map(e -> e.getName() + " (" + MemorySize.format(e.getSizeBytes()) + ")")
                        .collect(Collectors.joining(", "))));
                return FerryCli.USAGE;
            }
            String instance = id != null ? id : image.replaceAll("[^A-Za-z0-9_.-]", "-").replaceAll("\\.[^.]*$", "")
                    + "-" + UUID.randomUUID().toString().substring(0, 6);
            String server = images.getNbdHost() + ":" + images.getNbdPort();
            LaunchResult r = ClusterOptions.orchestrator(c).deploy(instance, guest, memory, args, host, image, server,
                    copyRate);
            if (!r.getOk()) {
                err.println("ferry: " + r.getError());
                return FerryCli.GUEST_FAILED;
            }
            out.printf("deploying %s (%s, %s) on %s from %s:%s (%s)%n", instance, guest, MemorySize.format(memory),
                    r.getHost(), images.getNode(), image, MemorySize.format(export.get().getSizeBytes()));
            out.flush();
            return follow(c, r.getHost(), instance, out, err);
        }
    }

    /** Polls the host agent until the deployment ends, with a progress line; then a summary. */
    private int follow(HostClient c, String hostName, String instance, PrintWriter out, PrintWriter err) throws Exception {
        ActorRef<GeneratedMessage> agent = c.awaitHosts(1, Duration.ofSeconds(30)).get(hostName);
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        long lastAt = System.nanoTime();
        long lastCopied = -1;
        long lastOps = 0;
        double rate = 0;
        double ioRate = 0;
        InstanceInfo info = null;
        while (System.nanoTime() < deadline) {
            if (agent == null) {
                agent = c.awaitHosts(1, Duration.ofSeconds(30)).get(hostName);
            }
            Optional<InstanceInfo> now = agent == null ? Optional.empty() : c.list(agent).getInstancesList().stream()
                    .filter(i -> i.getInstanceId().equals(instance)).findFirst();
            if (now.isPresent()) {
                info = now.get();
                long t = System.nanoTime();
                double dt = (t - lastAt) / 1e9;
                if (lastCopied >= 0 && dt > 0) {
                    double r = (info.getCopiedBytes() - lastCopied) / dt;
                    double io = (info.getGuestIoOps() - lastOps) / dt;
                    rate = rate == 0 ? r : 0.5 * rate + 0.5 * r;
                    ioRate = 0.5 * ioRate + 0.5 * io;
                }
                lastAt = t;
                lastCopied = info.getCopiedBytes();
                lastOps = info.getGuestIoOps();
                out.print("\r" + progressLine(info, rate, ioRate));
                out.flush();
                String state = info.getDeployState();
                if (state.equals("LOCAL") || state.equals("FAILED") || state.equals("STOPPED")
                        || !info.getState().equals("RUNNING")) {
                    break;
                }
            }
            Thread.sleep(250);
        }
        out.println();
        if (info == null || !info.getDeployState().equals("LOCAL")) {
            err.println("ferry: deployment of " + instance + " on " + hostName + (info == null ? " is not reported"
                    : " ended " + info.getDeployState() + " (instance " + info.getState() + "): " + info.getDeployMessage()));
            return FerryCli.GUEST_FAILED;
        }
        long copyMs = Math.max(1, info.getCopyMs());
        out.printf("deployed %s on %s: first console line after %d ms; copy of %.1f MiB in %.2f s (%.1f MiB/s); "
                        + "virtualization OFF %d ms after the copy completed; disk %s%n", instance, hostName,
                info.getFirstLineMs(), info.getTotalBytes() / MIB, copyMs / 1e3, info.getTotalBytes() / MIB / (copyMs / 1e3),
                info.getDevirtMs(), info.getDiskPath());
        return FerryCli.OK;
    }

    static String progressLine(InstanceInfo i, double rate, double ioRate) {
        double total = Math.max(1, i.getTotalBytes());
        double left = i.getTotalBytes() - i.getCopiedBytes();
        String eta = i.getDeployState().equals("STREAMING") && rate > 1 ? String.format("ETA %5.1fs", left / rate)
                : "         ";
        String msg = i.getDeployMessage().equals("streaming") ? "" : "  " + i.getDeployMessage();
        return String.format("%-9s %8.1f/%.1f MiB %3.0f%%  %8.1f MiB/s  %s  guest I/O %6.0f req/s%s    ",
                i.getDeployState(), i.getCopiedBytes() / MIB, i.getTotalBytes() / MIB, 100 * i.getCopiedBytes() / total,
                rate / MIB, eta, ioRate, msg);
    }
}
