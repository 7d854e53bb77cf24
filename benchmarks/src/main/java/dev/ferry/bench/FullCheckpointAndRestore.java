package dev.ferry.bench;

import dev.ferry.capture.VmCheckpointer;
import dev.ferry.capture.VmRestore;
import dev.ferry.capture.checkpoint.CheckpointWriter;
import dev.ferry.capture.checkpoint.WriteReport;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.console.ConsoleOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;

/**
 * Figures 1 and 2: a full checkpoint of a 1 GiB {@code dirtier} guest that has written its 512 MiB working set
 * ({@link VmCheckpointer}'s first checkpoint), beside the disk's raw sequential write of as many bytes, then the
 * restore of that checkpoint until the guest prints again. Each round runs raw write, checkpoint, restore; the
 * figures are medians over the rounds.
 */
final class FullCheckpointAndRestore {
    static final int RAM_MIB = 1024;
    static final int WORKSET_MIB = 512;
    static final long WORKSET_PAGES = (long) WORKSET_MIB << 20 >> 12;
    static final int REPORT_MS = 20;
    private static final long RAW_BYTES = (long) WORKSET_MIB << 20;
    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final double GOAL_RATIO = 0.7;
    private static final double GOAL_RESTORE_MS = 1000;

    private final Hypervisor hypervisor;
    private final Path dir;
    private final Consumer<String> progress;
    private final RawDiskWrite raw = new RawDiskWrite();

    /** One round's measurements. */
    record Round(double rawMibPerS, double checkpointSeconds, WriteReport report, double restoreCallMs,
                 double startToLineMs) {
        double guestMibPerS() {
            return report.memory().rawBytes() / checkpointSeconds / (1 << 20);
        }

        double compression() {
            return (double) report.memory().rawBytes() / report.fileBytes();
        }
    }

    /** What figure 3 compares incremental checkpoints with: the full checkpoint's medians. */
    record Full(double seconds, double pages, double fileBytes) {}

    private final List<Round> rounds = new ArrayList<>();

    FullCheckpointAndRestore(Hypervisor hypervisor, Path dir, Consumer<String> progress) {
        this.hypervisor = hypervisor;
        this.dir = dir;
        this.progress = progress;
    }

    static GuestSpec dirtier() {
        return GuestSpec.of("dirtier", RAM_MIB, "workset", Integer.toString(WORKSET_MIB), "mode", "page", "rate", "0",
                "report_ms", Integer.toString(REPORT_MS));
    }

    List<Section> run(int repetitions) {
        for (int i = 1; i <= repetitions; i++) {
            Round r = round(i);
            rounds.add(r);
            progress.accept(String.format(Locale.ROOT, "full checkpoint %d/%d: raw %.0f MiB/s, checkpoint %.3f s"
                            + " (%.0f MiB/s, file %.2f MiB), restore %.0f ms + %.0f ms to the first line", i,
                    repetitions, r.rawMibPerS(), r.checkpointSeconds(), r.guestMibPerS(),
                    r.report().fileBytes() / 1048576.0, r.restoreCallMs(), r.startToLineMs()));
        }
        return List.of(checkpointSection(), restoreSection());
    }

    Full full() {
        return new Full(Stats.median(samples(Round::checkpointSeconds)),
                Stats.median(samples(r -> (double) r.report().memory().pages())),
                Stats.median(samples(r -> (double) r.report().fileBytes())));
    }

    private Round round(int i) {
        Path file = dir.resolve("full-" + i + ".ferry");
        try {
            double rawRate = raw.measure(dir.resolve("raw-" + i + ".bin"), RAW_BYTES);
            GuestSpec spec = dirtier();
            DirtierProgress reports = new DirtierProgress();
            WriteReport report;
            double seconds;
            long totalAtCheckpoint;
            try (Vm vm = FerryGuest.boot(hypervisor, spec, reports)) {
                VmCheckpointer checkpointer = VmCheckpointer.attach(vm, spec.name(), null);
                vm.start();
                reports.awaitTotal(WORKSET_PAGES, LIMIT);
                long t0 = System.nanoTime();
                report = checkpointer.checkpoint(file, false);
                seconds = (System.nanoTime() - t0) / 1e9;
                totalAtCheckpoint = reports.totalPages();
            }
            double[] restore = restore(file, totalAtCheckpoint);
            return new Round(rawRate, seconds, report, restore[0], restore[1]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            delete(file);
        }
    }

    /**
     * Restores {@code file} and starts it; returns the milliseconds of {@link VmRestore#restore} and from
     * {@code vm.start()} to the first console line. Then checks the guest goes on counting from where it was.
     */
    private double[] restore(Path file, long totalAtCheckpoint) throws IOException {
        ConsoleOutput console = new ConsoleOutput();
        CountDownLatch firstLine = new CountDownLatch(1);
        AtomicLong firstLineAt = new AtomicLong();
        DirtierProgress reports = new DirtierProgress();
        console.onLine(line -> {
            if (firstLineAt.compareAndSet(0, System.nanoTime())) {
                firstLine.countDown();
            }
            reports.accept(line);
        });
        long t0 = System.nanoTime();
        try (Vm vm = VmRestore.restore(file, console, null)) {
            long t1 = System.nanoTime();
            vm.start();
            long t2 = System.nanoTime();
            if (!firstLine.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("the restored dirtier printed nothing within " + LIMIT
                        + (vm.result().isDone() ? "; it ended: " + vm.result().join().describe() : ""));
            }
            long total = reports.awaitNextTotal(0, LIMIT);
            if (total <= totalAtCheckpoint) {
                throw new IllegalStateException("the restored dirtier reports total_pages=" + total
                        + ", not beyond the " + totalAtCheckpoint + " it had reported before the checkpoint");
            }
            return new double[] {(t1 - t0) / 1e6, (firstLineAt.get() - t2) / 1e6};
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the restored dirtier", e);
        }
    }

    private Section checkpointSection() {
        List<Double> rawRates = samples(Round::rawMibPerS);
        List<Double> rates = samples(Round::guestMibPerS);
        double rawMedian = Stats.median(rawRates);
        double rateMedian = Stats.median(rates);
        WriteReport first = rounds.get(0).report();
        List<Figure> figures = List.of(
                Figure.median("raw_write_mib_per_s", "disk: raw sequential write of 512 MiB", "MiB/s", rawRates),
                Figure.median("checkpoint_s", "checkpoint: VmCheckpointer.checkpoint", "s",
                        samples(Round::checkpointSeconds)),
                Figure.median("checkpoint_writer_s", "  of which CheckpointWriter.write", "s",
                        samples(r -> r.report().elapsed().toNanos() / 1e9)),
                Figure.median("checkpoint_mib_per_s", "checkpoint: guest memory captured per second", "MiB/s", rates),
                Figure.ratio("ratio_checkpoint_raw", "checkpoint / raw disk write (MiB/s)", rateMedian, rawMedian,
                        GOAL_RATIO),
                Figure.median("file_mib", "checkpoint file on disk", "MiB",
                        samples(r -> r.report().fileBytes() / 1048576.0)),
                Figure.median("compression", "guest data bytes / file bytes", "x", samples(Round::compression)));
        List<String> notes = new ArrayList<>(List.of(
                "guest: " + dirtier() + "; checkpointed once a report says it wrote " + WORKSET_PAGES
                        + " pages (the whole working set); the VM stays paused after it",
                String.format(Locale.ROOT, "captured: %d pages (%d zero, skipped) = %.1f MiB of guest data in %d"
                                + " blocks, %d of them LZ4 (Compression.%s, %d threads)", first.memory().pages(),
                        first.memory().zeroPages(), first.memory().rawBytes() / 1048576.0, first.memory().blocks(),
                        first.lz4Blocks(), new CheckpointWriter().compression(), first.threads()),
                "page content: the dirtier's mode=page pattern, every 8-byte word of a page the same counter value,"
                        + " so LZ4 shrinks it far more than real guest memory (state-capture's"
                        + " CheckpointThroughputBench measures guest-like pages)",
                "checkpoint seconds: the whole call (switch virtualization ON, pause, dirty-log fetch, devices,"
                        + " the file written, fsynced, renamed, directory fsynced); MiB/s = guest data bytes / those"
                        + " seconds",
                "raw: the same number of bytes as the working set, the dirtier's pattern, 8 MiB buffer, temporary"
                        + " file, fsync, rename, directory fsync, in the same directory",
                "value = median of " + rounds.size() + " rounds (raw, checkpoint, restore, ...); round 1 runs in a"
                        + " fresh JVM, code not yet compiled, as a first checkpoint does in a new process"));
        return new Section("full_checkpoint", "1. Full checkpoint of a 1 GiB guest with 512 MiB written", figures,
                notes);
    }

    private Section restoreSection() {
        List<Double> total = samples(r -> r.restoreCallMs() + r.startToLineMs());
        List<Figure> figures = List.of(
                Figure.median("restore_to_running_ms", "VmRestore.restore until the first console line", "ms", total)
                        .atMost(GOAL_RESTORE_MS),
                Figure.median("restore_call_ms", "  VmRestore.restore (verify, VM, memory, devices)", "ms",
                        samples(Round::restoreCallMs)),
                Figure.median("start_to_line_ms", "  vm.start() until the first console line", "ms",
                        samples(Round::startToLineMs)));
        List<String> notes = List.of(
                "running again = the guest's first console line after vm.start(); the dirtier reports every "
                        + REPORT_MS + " ms of its own time, so up to " + REPORT_MS + " ms of that is waiting",
                "each restored guest's next report is checked to go on from the total it had before the checkpoint",
                "the file was just written, so it is read from the page cache, not the disk",
                "value = median of " + rounds.size() + " restores, one per round");
        return new Section("restore", "2. Restore of that checkpoint until the guest runs", figures, notes);
    }

    private List<Double> samples(ToDoubleFunction<Round> f) {
        return rounds.stream().map(f::applyAsDouble).toList();
    }

    static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p, e);
        }
    }
}
