package dev.ferry.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * QEMU/KVM's side: the same guest binary (its Multiboot image) in two QEMU processes on 127.0.0.1, started with the
 * command line of {@code benchmarks/qemu/qemu-cmd.sh} (as {@code migrate.sh} does), the destination with
 * {@code -incoming tcp:127.0.0.1:PORT}. Once the working set is touched, the source is told over QMP to migrate with
 * {@code max-bandwidth} at {@value #MAX_BANDWIDTH} bytes/s (no limit in practice) and QEMU's default downtime limit;
 * the figures are QEMU's own ({@code query-migrate}). Both processes are ended and reaped after each run.
 */
final class QemuMigration {
    static final String SCRIPTS_PROPERTY = "ferry.qemu.scripts";
    /** 100 GiB/s: far above what loopback carries here (14-22 Gbit/s), so the link is the limit, not QEMU. */
    static final long MAX_BANDWIDTH = 100L << 30;
    private static final Duration MIGRATION_LIMIT = Duration.ofMinutes(5);
    private static final int BEATS_BEFORE = 100;
    private static final int BEATS_AFTER = 20;
    private static final int AROUND = 3;

    private final Path scripts;
    private final GuestImages images;
    private final Consumer<String> progress;

    private QemuMigration(Path scripts, GuestImages images, Consumer<String> progress) {
        this.scripts = scripts;
        this.images = images;
        this.progress = progress;
    }

    /**
     * Finds the scripts ({@code -Dferry.qemu.scripts=DIR}, else {@code benchmarks/qemu} beside {@code target/}) and
     * QEMU ({@code $QEMU}, else {@code qemu-system-x86_64} on the PATH); fails saying what to install.
     */
    static QemuMigration locate(GuestImages images, Consumer<String> progress) {
        String configured = System.getProperty(SCRIPTS_PROPERTY);
        Path dir = configured != null ? Path.of(configured) : targetDir().getParent().resolve("qemu");
        if (!Files.isRegularFile(dir.resolve("qemu-cmd.sh"))) {
            throw new IllegalStateException("no qemu-cmd.sh in " + dir + ": run from the source tree "
                    + "(benchmarks/target/ferry-benchmarks.jar) or pass -D" + SCRIPTS_PROPERTY + "=benchmarks/qemu");
        }
        String qemu = System.getenv().getOrDefault("QEMU", "qemu-system-x86_64");
        if (!onPath(qemu)) {
            throw new IllegalStateException(qemu + " not found: install it (apt-get install -y qemu-system-x86) "
                    + "or set QEMU=/path/to/qemu-system-x86_64");
        }
        return new QemuMigration(dir, images, progress);
    }

    private static Path targetDir() {
        try {
            return Path.of(QemuMigration.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toAbsolutePath().getParent();
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            throw new IllegalStateException("cannot tell where this program's jar is; pass -D" + SCRIPTS_PROPERTY
                    + "=benchmarks/qemu", e);
        }
    }

    private static boolean onPath(String program) {
        if (program.contains("/")) {
            return Files.isExecutable(Path.of(program));
        }
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    /** The QEMU command line for {@code guest}, from qemu-cmd.sh's {@code ferry_qemu_cmd}. */
    List<String> command(GuestSpec guest) {
        Path image = images.multiboot(guest.name());
        ProcessBuilder pb = new ProcessBuilder("bash", "-c",
                ". \"$1\" && ferry_qemu_cmd \"$2\" \"$3\" && printf '%s\\n' \"${FERRY_QEMU_CMD[@]}\"", "qemu-cmd",
                scripts.resolve("qemu-cmd.sh").toString(), image.toString(), guest.argString());
        pb.environment().put("MEM", guest.ramMib() + "M");
        pb.redirectErrorStream(true);
        try {
            Process p = pb.start();
            List<String> words = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    words.add(line);
                }
            } finally {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(30, TimeUnit.SECONDS);
                }
            }
            if (p.exitValue() != 0 || words.isEmpty()) {
                throw new IllegalStateException("qemu-cmd.sh failed for " + guest + ": " + String.join(" ", words));
            }
            return words;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run bash for qemu-cmd.sh", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running qemu-cmd.sh", e);
        }
    }

    /** One untimed migration of {@code s} (see {@link MigrateBench#warmUpScenario}). */
    void warmUp(MigrationScenario s) throws Exception {
        MigrationRun r = run(s);
        if (!r.ok()) {
            throw new IllegalStateException("QEMU's warm-up migration failed: " + r.error());
        }
    }

    MigrationRun run(MigrationScenario s) throws Exception {
        GuestSpec guest = s.guest();
        List<String> cmd = command(guest);
        Path tmp = Files.createTempDirectory("ferry-qemu-migrate");
        Path srcSock = tmp.resolve("src.sock");
        Path dstSock = tmp.resolve("dst.sock");
        GuestReports reports = new GuestReports();
        int port = freePort();
        QemuProcess dst = null;
        QemuProcess src = null;
        long t0 = System.nanoTime();
        try {
            dst = QemuProcess.start("dst", with(cmd, "-incoming", "tcp:127.0.0.1:" + port, "-qmp",
                    "unix:" + dstSock + ",server=on,wait=off"), line -> reports.accept(GuestReports.DESTINATION, line));
            try (Qmp ready = Qmp.connect(dstSock, Duration.ofSeconds(30))) {
                ready.query("query-status");
            }
            src = QemuProcess.start("src", with(cmd, "-qmp", "unix:" + srcSock + ",server=on,wait=off"),
                    line -> reports.accept(GuestReports.SOURCE, line));
            Map<String, Object> result;
            Map<String, Object> params;
            long startSeq;
            long cpu0;
            long cpu;
            try (Qmp q = Qmp.connect(srcSock, Duration.ofSeconds(30))) {
                awaitReady(s, reports, src);
                startSeq = reports.lastSeq(GuestReports.SOURCE);
                q.execute("migrate-set-parameters", Map.of("max-bandwidth", MAX_BANDWIDTH));
                params = q.query("query-migrate-parameters");
                progress.accept("qemu: migrating " + s.describe() + " (downtime-limit "
                        + params.get("downtime-limit") + " ms, max-bandwidth " + params.get("max-bandwidth") + " B/s)");
                cpu0 = src.cpuMillis() + dst.cpuMillis();
                q.execute("migrate", Map.of("uri", "tcp:127.0.0.1:" + port));
                result = awaitEnd(q);
                cpu = src.cpuMillis() + dst.cpuMillis() - cpu0;
            }
            String status = String.valueOf(result.get("status"));
            if (!status.equals("completed")) {
                return MigrationRun.failed("qemu", "QEMU migration " + status + ": " + result.get("error-desc")
                        + "; " + src.describe() + "; " + dst.describe(), (System.nanoTime() - t0) / 1e6);
            }
            reports.await(r -> s.idle() ? r.beatCount(GuestReports.DESTINATION) >= BEATS_AFTER
                    : r.reportCount(GuestReports.DESTINATION) >= 3, Duration.ofSeconds(15),
                    "the guest's reports on the destination QEMU");
            String dstStatus;
            try (Qmp dq = Qmp.connect(dstSock, Duration.ofSeconds(30))) {
                dstStatus = String.valueOf(dq.query("query-status").get("status"));
            }
            Map<?, ?> ram = result.get("ram") instanceof Map<?, ?> m ? m : Map.of();
            double total = number(result, "total-time");
            double downtime = number(result, "downtime");
            long bytes = (long) number(ram, "transferred");
            long syncs = (long) number(ram, "dirty-sync-count");
            double gbps = bytes * 8.0 / (total * 1e6);
            double throttle = result.containsKey("cpu-throttle-percentage")
                    ? number(result, "cpu-throttle-percentage") : 0;
            Double gap = null;
            Double elsewhere = null;
            if (s.idle()) {
                gap = reports.gapAcrossSwitchMs(MigrationScenario.BEAT_MS, AROUND);
                elsewhere = reports.gapElsewhereMs(startSeq - BEATS_BEFORE, startSeq, MigrationScenario.BEAT_MS);
            }
            boolean continued = reports.continued() && dstStatus.equals("running");
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("setup_ms", number(result, "setup-time"));
            extra.put("cpu_ms", cpu);
            extra.put("downtime_limit_ms", params.get("downtime-limit"));
            extra.put("max_bandwidth", params.get("max-bandwidth"));
            extra.put("duplicate_pages", ram.get("duplicate"));
            extra.put("normal_pages", ram.get("normal"));
            extra.put("destination_status", dstStatus);
            progress.accept(String.format(Locale.ROOT, "qemu: total %.0f ms, downtime %.0f ms, guest gap %s ms, "
                    + "%d dirty syncs, %.1f MB, %.2f Gbit/s, continued: %s", total, downtime,
                    gap == null ? "-" : String.format(Locale.ROOT, "%.1f", gap), syncs, bytes / 1e6, gbps, continued));
            return new MigrationRun("qemu", true, "", total, downtime, gap, elsewhere, bytes, syncs, gbps, continued,
                    throttle, true, extra);
        } catch (RuntimeException e) {
            String why = e.getMessage() + (src != null ? "; " + src.describe() : "") + (dst != null ? "; "
                    + dst.describe() : "");
            return MigrationRun.failed("qemu", why, (System.nanoTime() - t0) / 1e6);
        } finally {
            try {
                if (src != null) {
                    src.close();
                }
            } finally {
                if (dst != null) {
                    dst.close();
                }
                Files.deleteIfExists(srcSock);
                Files.deleteIfExists(dstSock);
                Files.deleteIfExists(tmp);
            }
        }
    }

    private void awaitReady(MigrationScenario s, GuestReports reports, QemuProcess src) {
        if (s.idle()) {
            reports.await(r -> r.beatCount(GuestReports.SOURCE) >= BEATS_BEFORE || !src.isAlive(),
                    Duration.ofSeconds(30), BEATS_BEFORE + " beats on the source QEMU");
        } else {
            long pages = s.worksetPages();
            long seconds = s.dirtyRate() == 0 ? 60 : 30 + 2 * pages / s.dirtyRate();
            progress.accept(String.format(Locale.ROOT, "qemu: waiting until the dirtier has written %d pages", pages));
            reports.await(r -> r.lastTotal(GuestReports.SOURCE) >= pages || !src.isAlive(),
                    Duration.ofSeconds(seconds), "the dirtier under QEMU to touch its working set");
        }
        if (!src.isAlive()) {
            throw new IllegalStateException("the source QEMU ended before the migration: " + src.describe());
        }
    }

    /** Polls query-migrate every 50 ms until the migration ended; cancels it after the limit. */
    private Map<String, Object> awaitEnd(Qmp q) {
        long deadline = System.nanoTime() + MIGRATION_LIMIT.toNanos();
        while (true) {
            Map<String, Object> r = q.query("query-migrate");
            String status = String.valueOf(r.get("status"));
            if (status.equals("completed") && !(r.get("total-time") instanceof Number t && t.doubleValue() > 0)) {
                // QEMU sets the state before it computes total-time and downtime: a query in between reads 0
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("QEMU's migration completed but query-migrate gave no total-time: "
                            + r);
                }
                Threads.sleep(10);
                continue;
            }
            if (status.equals("completed") || status.equals("failed") || status.equals("cancelled")) {
                return r;
            }
            if (System.nanoTime() > deadline) {
                q.execute("migrate_cancel", Map.of());
                throw new IllegalStateException("QEMU's migration did not end within " + MIGRATION_LIMIT
                        + " (status " + status + ", " + r.get("ram") + "); cancelled it");
            }
            Threads.sleep(50);
        }
    }

    private static double number(Map<?, ?> m, String key) {
        if (m.get(key) instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalStateException("query-migrate gave no number '" + key + "': " + m);
    }

    private static List<String> with(List<String> cmd, String... more) {
        List<String> all = new ArrayList<>(cmd);
        all.addAll(List.of(more));
        return all;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }
}
