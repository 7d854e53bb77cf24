package dev.ferry.cli;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.orchestrator.OrchestratorClient;
import dev.ferry.orchestrator.OrchestratorNode;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.protocol.v1.RestoreResult;
import dev.ferry.vmm.Hypervisor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The operators' tour of a cluster: three hosts and an orchestrator as separate JVMs on 127.0.0.1, two guests,
 * a live migration, a checkpoint and a restore on another host, and a host evacuated; then a table of what was
 * measured. Everything it starts is stopped at the end, also on Ctrl-C.
 */
@Command(name = "demo", description = {
    "Start a 3-host local cluster, launch two guests, live-migrate one, checkpoint and restore the other,",
    "evacuate a host, print what each step measured, and stop everything (also on Ctrl-C)."})
final class DemoCommand implements Callable<Integer> {
    private static final Pattern BEAT = Pattern.compile("heartbeat seq=(\\d+) ");

    @Spec
    CommandSpec spec;

    @Option(names = "--memory", defaultValue = "256M", converter = MemorySizeConverter.class,
            description = "RAM of each guest (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--dir", description = "Where the demo cluster's data, logs and checkpoints go (default: .ferry/demo).")
    Path dir = Path.of(".ferry", "demo");

    private record Step(String what, String figure, boolean ok) {}

    private final List<Step> steps = new ArrayList<>();
    private PrintWriter out;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        if (!Hypervisor.isAvailable()) {
            spec.commandLine().getErr().println("ferry: " + Hypervisor.unavailabilityCause());
            return FerryCli.KVM_UNAVAILABLE;
        }
        Path home = dir.toAbsolutePath().normalize();
        wipe(home);
        LocalCluster cluster = new LocalCluster(home);
        Thread hook = new Thread(() -> closeQuietly(cluster), "ferry-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            run(cluster, home);
        } catch (Exception e) {
            steps.add(new Step("(stopped early)", e.getMessage() == null ? e.toString() : e.getMessage(), false));
        } finally {
            say("stopping the demo cluster (logs stay in " + home + ")");
            closeQuietly(cluster);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is already stopping the cluster
            }
        }
        return summary() ? FerryCli.OK : FerryCli.GUEST_FAILED;
    }

    private void run(LocalCluster cluster, Path home) throws Exception {
        long hostMemory = Math.max(2L << 30, 4 * memory);
        say("== 1. a local cluster: hosts h1, h2, h3 and an orchestrator, each its own JVM on 127.0.0.1");
        long t0 = System.nanoTime();
        var seed = cluster.startHost("h1", hostMemory);
        say("   host h1 up (pid " + seed.pid() + "), the seed; the others join it in parallel");
        List<java.util.concurrent.CompletableFuture<Void>> joining = new ArrayList<>();
        for (String h : List.of("h2", "h3", "orchestrator")) {
            joining.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    var p = h.startsWith("h") ? cluster.startHost(h, hostMemory)
                            : cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, h);
                    say("   " + (h.startsWith("h") ? "host " : "") + h + " up (pid " + p.pid() + ")");
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }));
        }
        java.util.concurrent.CompletableFuture.allOf(joining.toArray(java.util.concurrent.CompletableFuture[]::new)).join();
        HostClient client = cluster.client();
        client.awaitHosts(3, Duration.ofSeconds(60));
        OrchestratorClient orch = new OrchestratorClient(client);
        orch.gateway(Duration.ofSeconds(60));
        step("cluster up (3 hosts + orchestrator)", ms(System.nanoTime() - t0), true);

        say("== 2. launch two guests: web (heartbeat) on h1, batch (dirtier, 64 MiB working set) on h2");
        t0 = System.nanoTime();
        LaunchResult web = orch.launch("web", "heartbeat", memory, Map.of("interval_ms", "100"), "h1");
        check(web.getOk(), "launch web: " + web.getError());
        awaitBeats(client, "h1", "web", 2);
        step("launch web to its 2nd heartbeat", ms(System.nanoTime() - t0), true);
        t0 = System.nanoTime();
        LaunchResult batch = orch.launch("batch", "dirtier", memory, Map.of("workset", "64", "rate", "5000"), "h2");
        check(batch.getOk(), "launch batch: " + batch.getError());
        step("launch batch", ms(System.nanoTime() - t0), true);

        say("== 3. live-migrate web from h1 to h3 while it runs");
        long before = last(beats(client, "h1", "web"));
        MigrationDone moved = orch.migrate("web", "h3", 50_000, p -> {
            out.printf("\r   %-12s round %-3d %8.1f MiB left %7.2f Gbit/s", p.getPhase(), p.getRound(),
                    p.getPagesLeft() * 4096 / 1048576.0, p.getGbps());
            out.flush();
        }, Duration.ofMinutes(5));
        out.println();
        check(moved.getOk(), "migrate web: " + moved.getError());
        step("live migration h1 -> h3: total", ms(moved.getTotalMicros() * 1000), true);
        step("live migration h1 -> h3: downtime", ms(moved.getDowntimeMicros() * 1000)
                + ", " + moved.getRounds() + " rounds, " + mib(moved.getBytes()) + " sent", true);
        List<Long> after = awaitBeats(client, "h3", "web", 3);
        step("web's heartbeat continues on h3", "seq " + before + " on h1 -> " + after.get(0) + " on h3",
                after.get(0) > before && consecutive(after));

        say("== 4. checkpoint batch, then restore it from the checkpoint onto h3");
        CheckpointResult cp = orch.checkpoint("batch");
        check(cp.getOk(), "checkpoint batch: " + cp.getError());
        step("checkpoint batch (guest paused)", ms(cp.getPauseMicros() * 1000) + ", " + mib(cp.getBytes()) + " file",
                true);
        t0 = System.nanoTime();
        RestoreResult restored = orch.restore("batch", null, "h3");
        check(restored.getOk(), "restore batch: " + restored.getError());
        step("restore batch onto h3 (old copy stopped)", ms(System.nanoTime() - t0) + ", epoch " + restored.getEpoch(),
                restored.getHost().equals("h3"));

        say("== 5. evacuate h3 for maintenance: both guests move, two at a time");
        t0 = System.nanoTime();
        var evacuated = orch.evacuate("h3", 2, 50_000, Duration.ofMinutes(5));
        boolean allMoved = evacuated.stream().allMatch(e -> e.result().getOk()) && evacuated.size() == 2;
        step("evacuate h3 (" + evacuated.size() + " instances)", ms(System.nanoTime() - t0), allMoved);
        for (var e : evacuated) {
            say("   " + e.instanceId() + " -> " + (e.result().getOk() ? e.result().getDestinationHost()
                    + " (downtime " + ms(e.result().getDowntimeMicros() * 1000) + ")" : "FAILED: " + e.result().getError()));
        }

        say("== 6. check: every instance runs on exactly one host, where the registry says");
        for (String id : List.of("web", "batch")) {
            RegisteredInstance r = orch.instance(id);
            List<String> copies = runningCopies(client, id);
            step(id + " runs once, as registered", r.getHost() + " epoch " + r.getEpoch() + "; hosts: " + copies,
                    copies.equals(List.of(r.getHost() + "@" + r.getEpoch())) && !r.getHost().equals("h3"));
        }
        List<Long> end = awaitBeats(client, orch.instance("web").getHost(), "web", 2);
        step("web's heartbeat never went back", "last seq " + last(end), last(end) > after.get(0) && consecutive(end));
    }

    private void step(String what, String figure, boolean ok) {
        steps.add(new Step(what, figure, ok));
        say("   " + (ok ? "ok" : "FAILED") + ": " + what + ": " + figure);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }

    private boolean summary() {
        out.println();
        out.printf("%-44s %-48s %s%n", "step", "measured", "ok");
        boolean all = !steps.isEmpty();
        for (Step s : steps) {
            out.printf("%-44s %-48s %s%n", s.what(), s.figure(), s.ok() ? "yes" : "NO");
            all &= s.ok();
        }
        out.println(all ? "every step succeeded" : "some steps FAILED");
        out.flush();
        return all;
    }

    private synchronized void say(String line) {
        out.println(line);
        out.flush();
    }

    private static List<Long> beats(HostClient client, String host, String id) throws Exception {
        ActorRef<GeneratedMessage> agent = client.awaitHosts(1, Duration.ofSeconds(10)).get(host);
        List<Long> seqs = new ArrayList<>();
        if (agent != null) {
            for (String line : client.console(agent, id, 1000).getLinesList()) {
                Matcher m = BEAT.matcher(line);
                if (m.find()) {
                    seqs.add(Long.parseLong(m.group(1)));
                }
            }
        }
        return seqs;
    }

    private static List<Long> awaitBeats(HostClient client, String host, String id, int n) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            List<Long> b = beats(client, host, id);
            if (b.size() >= n) {
                return b;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(id + " printed " + b.size() + " heartbeats on " + host + " in 30 s");
            }
            Thread.sleep(100);
        }
    }

    private static List<String> runningCopies(HostClient client, String id) throws Exception {
        List<String> out = new ArrayList<>();
        for (var h : client.awaitHosts(1, Duration.ofSeconds(10)).entrySet()) {
            for (InstanceInfo i : client.list(h.getValue()).getInstancesList()) {
                if (i.getInstanceId().equals(id) && i.getState().equals("RUNNING")) {
                    out.add(h.getKey() + "@" + i.getEpoch());
                }
            }
        }
        return out;
    }

    private static boolean consecutive(List<Long> seqs) {
        for (int i = 1; i < seqs.size(); i++) {
            if (seqs.get(i) != seqs.get(i - 1) + 1) {
                return false;
            }
        }
        return true;
    }

    private static long last(List<Long> xs) {
        if (xs.isEmpty()) {
            throw new IllegalStateException("no heartbeat yet");
        }
        return xs.get(xs.size() - 1);
    }

    private static String ms(long nanos) {
        return String.format("%.1f ms", nanos / 1e6);
    }

    private static String mib(long bytes) {
        return String.format("%.2f MiB", bytes / 1048576.0);
    }

    private static void closeQuietly(LocalCluster cluster) {
        try {
            cluster.close();
        } catch (Exception ignored) {
            // best effort: every process is killed by pid
        }
    }

    /** Removes what an earlier demo left in {@code home} (never anything outside it). */
    private static void wipe(Path home) throws IOException {
        if (!Files.exists(home)) {
            return;
        }
        try (Stream<Path> all = Files.walk(home)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
