package dev.ferry.bench;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.host.client.HostClient;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.protocol.v1.LaunchReply;
import dev.ferry.protocol.v1.MigrateInstance;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationProgress;
import dev.ferry.protocol.v1.StopInstance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Ferry's side: a source and a destination host agent, each its own JVM on 127.0.0.1 ({@link LocalCluster} in a
 * temporary directory, killed and deleted by {@link #close()}), and a client in this JVM that launches the guest on
 * the source, waits until its working set is touched, and live-migrates it with {@link HostClient#migrate}.
 *
 * <p>The dirtier prints no clock, so the guest's own view of the switchover comes from a {@code heartbeat}
 * (10 ms beats, 64 MiB) launched beside it on the source and migrated the same way right after it; an idle scenario
 * migrates a heartbeat in the first place and reads its own beats.
 */
final class FerryMigration implements AutoCloseable {
    static final String SOURCE_HOST = "src";
    static final String DESTINATION_HOST = "dst";
    /** Host capacity for the agents' admission check (not reserved): room for the largest scenario on each. */
    private static final long CAPACITY_BYTES = 16L << 30;
    private static final long COMPANION_MIB = 64;
    /** MigrateInstance.max_rounds left unset: the source's default. */
    static final int DEFAULT_MAX_ROUNDS = 30;
    private static final Duration MIGRATION_LIMIT = Duration.ofMinutes(5);
    private static final Duration ASK_LIMIT = Duration.ofSeconds(30);
    private static final int BEATS_BEFORE = 100;
    private static final int BEATS_AFTER = 20;
    private static final int AROUND = 3;
    /** Both logback.xml files (this module's and host-actor's) are on the hosts' class path: keep quiet about it. */
    private static final String HOST_MAIN = dev.ferry.host.HostNode.class.getName();
    static final String QUIET_LOGBACK = "-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener";

    private final Path dir;
    private final LocalCluster cluster;
    private final HostClient client;
    private final ActorRef<GeneratedMessage> source;
    private final ActorRef<GeneratedMessage> destination;
    private final Consumer<String> progress;
    private final GcLog sourceGc;
    private final GcLog destinationGc;
    private int serial;

    /**
     * When the client saw a migration's steps, in epoch ms: the request, the first pre-copy report, the
     * stop-and-copy report (sent right after the source paused the guest), and the final report.
     */
    private static final class Steps {
        private final long epoch0 = System.currentTimeMillis();
        private final long nano0 = System.nanoTime();
        double requested = now();
        double firstRound = Double.NaN;
        double stopAndCopy = Double.NaN;
        double done = Double.NaN;

        double now() {
            return epoch0 + (System.nanoTime() - nano0) / 1e6;
        }
    }

    private FerryMigration(Path dir, LocalCluster cluster, HostClient client, Map<String, ActorRef<GeneratedMessage>> agents,
                           GcLog sourceGc, GcLog destinationGc, Consumer<String> progress) {
        this.dir = dir;
        this.cluster = cluster;
        this.client = client;
        this.source = agents.get(SOURCE_HOST);
        this.destination = agents.get(DESTINATION_HOST);
        this.sourceGc = sourceGc;
        this.destinationGc = destinationGc;
        this.progress = progress;
    }

    private static String[] hostOptions(String extra, String host, String... base) {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(base));
        if (!extra.isEmpty()) {
            for (String o : extra.split("\\s+")) {
                all.add(o.replace("%h", host));
            }
        }
        return all.toArray(String[]::new);
    }

    /** Starts both host JVMs and the client; stops whatever it started if that fails. */
    static FerryMigration start(Consumer<String> progress) throws Exception {
        Path dir = Files.createTempDirectory("ferry-migrate-bench");
        LocalCluster cluster = new LocalCluster(dir);
        try {
            long t0 = System.nanoTime();
            GcLog sourceGc = new GcLog(dir.resolve(SOURCE_HOST + "-gc.log"));
            GcLog destinationGc = new GcLog(dir.resolve(DESTINATION_HOST + "-gc.log"));
            // -Dferry.bench.host-jvm-options='-XX:StartFlightRecording=filename=%h.jfr' profiles both hosts (%h: name)
            String extra = System.getProperty("ferry.bench.host-jvm-options", "").trim();
            cluster.startHost(SOURCE_HOST, CAPACITY_BYTES, hostOptions(extra, SOURCE_HOST, QUIET_LOGBACK, sourceGc.jvmOption()));
            cluster.startHost(DESTINATION_HOST, CAPACITY_BYTES, hostOptions(extra, DESTINATION_HOST, QUIET_LOGBACK,
                    destinationGc.jvmOption()));
            HostClient client = cluster.client();
            Map<String, ActorRef<GeneratedMessage>> agents = cluster.agents(2);
            progress.accept(String.format(Locale.ROOT, "ferry: hosts %s and %s up on 127.0.0.1 in %.1f s (%s)",
                    SOURCE_HOST, DESTINATION_HOST, (System.nanoTime() - t0) / 1e9, dir));
            return new FerryMigration(dir, cluster, client, agents, sourceGc, destinationGc, progress);
        } catch (Exception | Error e) {
            cluster.close();
            deleteTree(dir);
            throw e;
        }
    }

    /** One untimed migration of {@code s} (see {@link MigrateBench#warmUpScenario}). */
    void warmUp(MigrationScenario s) throws Exception {
        MigrationRun r = run(s);
        if (!r.ok()) {
            throw new IllegalStateException("the warm-up migration failed: " + r.error());
        }
    }

    MigrationRun run(MigrationScenario s) throws Exception {
        int n = ++serial;
        String id = s.name() + "-" + n;
        String companion = s.idle() ? null : "beat-" + n;
        long t0 = System.nanoTime();
        try {
            launch(id, s.guest());
            GuestReports reports = new GuestReports();
            Map<String, Object> extra = new LinkedHashMap<>();
            MigrationDone done;
            long startSeq;
            List<MigrationProgress> rounds = new ArrayList<>();
            Steps steps;
            try (ConsoleFollower f = new ConsoleFollower(client, source, id, GuestReports.SOURCE, reports,
                    s.idle() ? 25 : 100, 200)) {
                awaitReady(id, s, reports);
                startSeq = reports.lastSeq(GuestReports.SOURCE);
                progress.accept("ferry: migrating " + s.describe());
                steps = new Steps();
                long cpu0 = hostsCpuMillis();
                done = migrate(id, s, steps, rounds::add);
                extra.put("cpu_ms", hostsCpuMillis() - cpu0);
                extra.put("console_poll_errors", f.errors());
            }
            extra.putAll(phases(steps));
            if (!done.getOk()) {
                return MigrationRun.failed("ferry", "migration of " + id + " failed: " + done.getError(),
                        done.getTotalMicros() / 1e3);
            }
            try (ConsoleFollower f = new ConsoleFollower(client, destination, id, GuestReports.DESTINATION, reports,
                    50, 200)) {
                reports.await(r -> s.idle() ? r.beatCount(GuestReports.DESTINATION) >= BEATS_AFTER
                        : r.reportCount(GuestReports.DESTINATION) >= 3, Duration.ofSeconds(15),
                        "the guest's reports on the destination");
            }
            Double gap = null;
            Double elsewhere = null;
            if (s.idle()) {
                gap = reports.gapAcrossSwitchMs(MigrationScenario.BEAT_MS, AROUND);
                elsewhere = reports.gapElsewhereMs(startSeq - BEATS_BEFORE, startSeq, MigrationScenario.BEAT_MS);
                extra.put("guest_gap_from", "this heartbeat's beats (10 ms)");
            } else {
                // started only now: its vCPU and console would otherwise take CPU from the dirtier's migration,
                // which QEMU's side does not share with anything
                launch(companion, MigrationScenario.heartbeat(COMPANION_MIB));
                MigrationRun beat = companion(companion, s);
                gap = beat.guestGapMs();
                elsewhere = beat.guestGapElsewhereMs();
                extra.put("guest_gap_from", "a 64 MiB heartbeat (10 ms beats) started on the source once the dirtier "
                        + "had left, and migrated the same way");
                extra.put("companion_downtime_ms", beat.downtimeMs());
                extra.put("companion_total_ms", beat.totalMs());
                extra.put("companion_switchover", beat.extra().get("switchover"));
            }
            extra.put("switchover", switchover(done));
            extra.put("zero_pages", done.getZeroPages());
            extra.put("pages_skipped", done.getPagesSkipped());
            extra.put("lz4_batches", done.getLz4Batches());
            extra.put("page_bytes", done.getPageBytes());
            extra.put("dirty_pages_per_s", done.getDirtyPagesPerS());
            MigrationProgress last = rounds.isEmpty() ? null : rounds.get(rounds.size() - 1);
            if (last != null && last.getPhase().equals("stop-and-copy")) {
                extra.put("stop_and_copy_pages", last.getPagesLeft());
            }
            extra.put("max_throttle_percent", rounds.stream().mapToInt(MigrationProgress::getThrottlePercent).max()
                    .orElse(0));
            double downtime = done.getDowntimeMicros() < 0 ? Double.NaN : done.getDowntimeMicros() / 1e3;
            boolean continued = reports.continued();
            progress.accept(String.format(Locale.ROOT, "ferry: %s total %.1f ms, downtime %.2f ms, guest gap %s ms, "
                    + "%d rounds, %.1f MB, %.2f Gbit/s, throttle %d%%, continued: %s", id, done.getTotalMicros() / 1e3,
                    downtime, gap == null ? "-" : String.format(Locale.ROOT, "%.1f", gap), done.getRounds(),
                    done.getBytes() / 1e6, done.getGbps(), done.getThrottlePercent(), continued));
            return new MigrationRun("ferry", true, "", done.getTotalMicros() / 1e3, downtime, gap, elsewhere,
                    done.getBytes(), done.getRounds(), done.getGbps(), continued, done.getThrottlePercent(),
                    done.getRounds() <= DEFAULT_MAX_ROUNDS, extra);
        } catch (RuntimeException e) {
            return MigrationRun.failed("ferry", e.getMessage(), (System.nanoTime() - t0) / 1e6);
        } finally {
            stopEverywhere(id);
            if (companion != null) {
                stopEverywhere(companion);
            }
        }
    }

    /** Migrates the heartbeat companion as the dirtier was, and reads its gap across the switchover. */
    private MigrationRun companion(String id, MigrationScenario s) throws Exception {
        GuestReports reports = new GuestReports();
        MigrationDone done;
        long startSeq;
        try (ConsoleFollower f = new ConsoleFollower(client, source, id, GuestReports.SOURCE, reports, 25, 200)) {
            reports.await(r -> r.beatCount(GuestReports.SOURCE) >= BEATS_BEFORE, Duration.ofSeconds(30),
                    "the companion heartbeat's beats on the source");
            startSeq = reports.lastSeq(GuestReports.SOURCE);
            done = migrate(id, s, new Steps(), p -> { });
        }
        if (!done.getOk()) {
            throw new IllegalStateException("the dirtier migrated, but its heartbeat companion " + id + " did not: "
                    + done.getError());
        }
        try (ConsoleFollower f = new ConsoleFollower(client, destination, id, GuestReports.DESTINATION, reports, 50,
                200)) {
            reports.await(r -> r.beatCount(GuestReports.DESTINATION) >= BEATS_AFTER, Duration.ofSeconds(15),
                    "the companion heartbeat's beats on the destination");
        }
        Double gap = reports.gapAcrossSwitchMs(MigrationScenario.BEAT_MS, AROUND);
        Double elsewhere = reports.gapElsewhereMs(startSeq - BEATS_BEFORE, startSeq, MigrationScenario.BEAT_MS);
        return new MigrationRun("ferry", true, "", done.getTotalMicros() / 1e3, done.getDowntimeMicros() / 1e3, gap,
                elsewhere, done.getBytes(), done.getRounds(), done.getGbps(), reports.continued(), 0, true,
                Map.of("switchover", switchover(done)));
    }

    /** Where the downtime went, as the two hosts measured it (milliseconds; final_pages a count). */
    private static Map<String, Object> switchover(MigrationDone done) {
        var t = done.getSwitchover();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pause_ms", t.getPauseMicros() / 1e3);
        m.put("final_pages", t.getFinalPages());
        m.put("final_copy_ms", t.getFinalCopyMicros() / 1e3);
        m.put("capture_ms", t.getCaptureMicros() / 1e3);
        m.put("verify_ms", t.getVerifyMicros() / 1e3);
        m.put("dst_batches_ms", t.getDestinationBatchesMicros() / 1e3);
        m.put("dst_restore_ms", t.getDestinationRestoreMicros() / 1e3);
        m.put("persist_commit_ms", t.getPersistCommitMicros() / 1e3);
        m.put("resume_ms", t.getResumeMicros() / 1e3);
        m.put("dst_start_ms", t.getDestinationStartMicros() / 1e3);
        return m;
    }

    /** CPU time (user + system) the host JVMs this process forked have used so far: migration and guests alike. */
    private static long hostsCpuMillis() {
        return ProcessHandle.current().children()
                .filter(p -> p.info().arguments().map(a -> List.of(a).contains(HOST_MAIN)).orElse(false))
                .mapToLong(p -> p.info().totalCpuDuration().map(java.time.Duration::toMillis).orElse(0L)).sum();
    }

    private void awaitReady(String id, MigrationScenario s, GuestReports reports) throws Exception {
        if (s.idle()) {
            awaitRunning(id, reports, r -> r.beatCount(GuestReports.SOURCE) >= BEATS_BEFORE, Duration.ofSeconds(30),
                    BEATS_BEFORE + " beats on the source");
            return;
        }
        long pages = s.worksetPages();
        long seconds = s.dirtyRate() == 0 ? 60 : 30 + 2 * pages / s.dirtyRate();
        progress.accept(String.format(Locale.ROOT, "ferry: waiting until the dirtier has written %d pages "
                + "(its %d MiB working set)", pages, s.worksetMib()));
        awaitRunning(id, reports, r -> r.lastTotal(GuestReports.SOURCE) >= pages, Duration.ofSeconds(seconds),
                "the dirtier to touch its working set (" + pages + " pages)");
    }

    /**
     * Waits for {@code condition} on the guest's reports, and stops at once with the host's reason when the instance
     * is no longer running on the source (a guest that exits on a bad configuration, say) instead of waiting out the
     * limit.
     */
    private void awaitRunning(String id, GuestReports reports, java.util.function.Predicate<GuestReports> condition,
                              Duration limit, String what) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!reports.awaitUpTo(condition, Duration.ofSeconds(2))) {
            String ended = notRunning(id);
            if (ended != null) {
                throw new IllegalStateException("waiting for " + what + ": " + ended);
            }
            if (System.nanoTime() > deadline) {
                reports.await(condition, Duration.ZERO, what);
            }
        }
    }

    /** Why {@code id} is not running on the source host, or null while it runs. */
    private String notRunning(String id) throws Exception {
        for (var i : client.list(source).getInstancesList()) {
            if (i.getInstanceId().equals(id)) {
                return i.getState().equals("RUNNING") ? null : "instance " + id + " is " + i.getState()
                        + " on the source" + (i.getNote().isEmpty() ? "" : ": " + i.getNote());
            }
        }
        return "instance " + id + " is not on the source host";
    }

    /**
     * Where the time went, as the client saw it: {@code setup_ms} until the first pre-copy report (offer, accept,
     * dirty logging on, page streams connected), {@code precopy_ms} until the stop-and-copy report (the guest is
     * paused), {@code switchover_ms} until the final report; and the hosts' GC pauses during the migration and
     * during the switchover.
     */
    private Map<String, Object> phases(Steps t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("setup_ms", t.firstRound - t.requested);
        m.put("precopy_ms", t.stopAndCopy - t.firstRound);
        m.put("switchover_ms", t.done - t.stopAndCopy);
        long from = (long) t.requested;
        long to = (long) Math.ceil(t.done);
        m.put("gc_ms_src", sourceGc.pausedMillis(from, to));
        m.put("gc_ms_dst", destinationGc.pausedMillis(from, to));
        if (!Double.isNaN(t.stopAndCopy)) {
            long pause = (long) t.stopAndCopy - 5;
            m.put("gc_ms_src_switchover", sourceGc.pausedMillis(pause, to));
            m.put("gc_ms_dst_switchover", destinationGc.pausedMillis(pause, to));
        }
        return m;
    }

    private MigrationDone migrate(String id, MigrationScenario s, Steps steps, Consumer<MigrationProgress> onProgress)
            throws Exception {
        MigrateInstance.Builder options = MigrateInstance.newBuilder()
                .setDowntimeLimitMicros(s.downtimeLimitMs() * 1000).setStreams(s.streams());
        steps.requested = steps.now();
        MigrationDone done = client.migrate(source, destination, id, options, p -> {
            if (p.getPhase().equals("stop-and-copy")) {
                steps.stopAndCopy = steps.now();
            } else if (Double.isNaN(steps.firstRound)) {
                steps.firstRound = steps.now();
            }
            onProgress.accept(p);
            progress.accept(String.format(Locale.ROOT, "ferry:   %s round %d: %d pages to send, %.2f Gbit/s, "
                    + "%.0f dirty pages/s, throttle %d%%", p.getPhase(), p.getRound(), p.getPagesLeft(), p.getGbps(),
                    p.getDirtyPagesPerS(), p.getThrottlePercent()));
        }, MIGRATION_LIMIT);
        steps.done = steps.now();
        return done;
    }

    private void launch(String id, GuestSpec g) throws Exception {
        LaunchReply r = client.launch(source, id, g.name(), g.ramBytes(), g.args());
        if (!r.getOk()) {
            throw new IllegalStateException("host " + SOURCE_HOST + " could not launch " + g + " as " + id + ": "
                    + r.getError());
        }
    }

    /** Stops {@code id} wherever it runs; a host where it does not run says so, which is expected here. */
    private void stopEverywhere(String id) {
        ActorRefResolver resolver = ActorRefResolver.get(client.system());
        for (ActorRef<GeneratedMessage> agent : List.of(source, destination)) {
            try {
                AskPattern.<GeneratedMessage, GeneratedMessage>ask(agent,
                        replyTo -> StopInstance.newBuilder().setInstanceId(id)
                                .setReplyTo(resolver.toSerializationFormat(replyTo)).build(),
                        ASK_LIMIT, client.system().scheduler())
                        .toCompletableFuture().get(ASK_LIMIT.toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("could not stop instance " + id + " after its run: " + e, e);
            }
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (!System.getProperty("ferry.bench.host-jvm-options", "").isBlank()) {
                // a profiler or recording in the hosts writes its file as the JVM exits: end them gently first
                for (var h : cluster.nodes().values()) {
                    h.close();
                }
            }
            cluster.close();
        } finally {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
