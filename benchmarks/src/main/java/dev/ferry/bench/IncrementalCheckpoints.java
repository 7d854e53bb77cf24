package dev.ferry.bench;

import dev.ferry.capture.VmCheckpointer;
import dev.ferry.capture.checkpoint.WriteReport;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;

/**
 * Figure 3: incremental checkpoints of a 1 GiB guest after a full one, with about 1% and 10% of its RAM dirty.
 * The dirtied set is a {@code dirtier} working set of 10 MiB or 100 MiB (rate=0, mode=page): between two
 * checkpoints the guest runs at least one whole pass over it, and writes nothing else but its stack, so the dirty
 * pages are the working set whatever the time between. Size and time are shown per dirty page, beside the full
 * checkpoint of figure 1, to show that they follow the dirty pages, not the RAM.
 */
final class IncrementalCheckpoints {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final Hypervisor hypervisor;
    private final Path dir;
    private final Consumer<String> progress;

    /** One dirtied fraction of the 1 GiB RAM: its working set in MiB. */
    private record Case(String key, String label, int worksetMib) {
        long worksetPages() {
            return (long) worksetMib << 20 >> 12;
        }
    }

    private static final List<Case> CASES = List.of(new Case("1pct", "1% dirty", 10),
            new Case("10pct", "10% dirty", 100));

    /** One incremental checkpoint: pages it holds, bytes on disk, seconds of the whole call and of the file's write. */
    private record Sample(long pages, long fileBytes, double seconds, double writeSeconds) {
        double pagesPerSecond() {
            return pages / seconds;
        }

        double bytesPerPage() {
            return (double) fileBytes / pages;
        }
    }

    IncrementalCheckpoints(Hypervisor hypervisor, Path dir, Consumer<String> progress) {
        this.hypervisor = hypervisor;
        this.dir = dir;
        this.progress = progress;
    }

    Section run(int repetitions, FullCheckpointAndRestore.Full full) {
        List<Figure> figures = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<List<Sample>> all = new ArrayList<>();
        for (Case c : CASES) {
            List<Sample> samples = measure(c, repetitions, notes);
            all.add(samples);
            String k = c.key();
            String l = c.label() + " (" + c.worksetMib() + " MiB): ";
            figures.add(Figure.median(k + "_pages", l + "pages", "pages", samples(samples, s -> s.pages())));
            figures.add(Figure.median(k + "_kib", l + "file", "KiB", samples(samples, s -> s.fileBytes() / 1024.0)));
            figures.add(Figure.median(k + "_ms", l + "checkpoint", "ms", samples(samples, s -> s.seconds() * 1e3)));
            figures.add(Figure.median(k + "_write_ms", l + "  of which CheckpointWriter.write", "ms",
                    samples(samples, s -> s.writeSeconds() * 1e3)));
            figures.add(Figure.median(k + "_pages_per_s", l + "pages per second", "pages/s",
                    samples(samples, Sample::pagesPerSecond)));
            figures.add(Figure.median(k + "_bytes_per_page", l + "bytes per dirty page", "B",
                    samples(samples, Sample::bytesPerPage)));
        }
        figures.add(Figure.value("full_pages", "full (figure 1): pages", full.pages(), "pages"));
        figures.add(Figure.value("full_ms", "full (figure 1): checkpoint", full.seconds() * 1e3, "ms"));
        figures.add(Figure.value("full_pages_per_s", "full (figure 1): pages per second", full.pages() / full.seconds(),
                "pages/s"));
        figures.add(Figure.value("full_bytes_per_page", "full (figure 1): bytes per page",
                full.fileBytes() / full.pages(), "B"));

        double p1 = Stats.median(samples(all.get(0), s -> s.pages()));
        double p10 = Stats.median(samples(all.get(1), s -> s.pages()));
        double t1 = Stats.median(samples(all.get(0), Sample::seconds)) * 1e3;
        double t10 = Stats.median(samples(all.get(1), Sample::seconds)) * 1e3;
        double perPage = (t10 - t1) / (p10 - p1);
        figures.add(Figure.value("pages_ratio", "pages, 10% / 1%", p10 / p1, "x"));
        figures.add(Figure.value("time_ratio", "time, 10% / 1%", t10 / t1, "x"));
        figures.add(Figure.value("fit_fixed_ms", "fit t = a + b x pages: a (fixed)", t1 - perPage * p1, "ms"));
        figures.add(Figure.value("fit_us_per_page", "fit t = a + b x pages: b (per page)", perPage * 1e3, "us"));
        notes.add(0, "each case: a 1 GiB dirtier (mode=page rate=0 report_ms=" + FullCheckpointAndRestore.REPORT_MS
                + ") with that working set, a full checkpoint once it wrote the set, then " + repetitions
                + " incremental ones (VmCheckpointer, virtualization ON between them), each after the guest"
                + " wrote its whole set again; value = median");
        notes.add(1, "checkpoint ms: the whole call (pause, dirty-log fetch of 1 GiB, devices, resume) and of it"
                + " CheckpointWriter.write (the file written, fsynced, renamed, directory fsynced); the fit through"
                + " the two medians splits the call into a fixed part and a part per dirty page");
        return new Section("incremental_checkpoint", "3. Incremental checkpoints of a 1 GiB guest", figures, notes);
    }

    private List<Sample> measure(Case c, int repetitions, List<String> notes) {
        GuestSpec spec = GuestSpec.of("dirtier", FullCheckpointAndRestore.RAM_MIB, "workset",
                Integer.toString(c.worksetMib()), "mode", "page", "rate", "0", "report_ms",
                Integer.toString(FullCheckpointAndRestore.REPORT_MS));
        DirtierProgress reports = new DirtierProgress();
        List<Path> files = new ArrayList<>();
        List<Sample> samples = new ArrayList<>();
        try (Vm vm = FerryGuest.boot(hypervisor, spec, reports)) {
            VmCheckpointer checkpointer = VmCheckpointer.attach(vm, spec.name(), null);
            vm.start();
            reports.awaitTotal(c.worksetPages(), LIMIT);
            Path fullFile = dir.resolve(c.key() + "-0.ferry");
            files.add(fullFile);
            WriteReport full = checkpointer.checkpoint(fullFile, true);
            for (int i = 1; i <= repetitions; i++) {
                long since = reports.awaitNextTotal(reports.reportCount(), LIMIT);
                reports.awaitTotal(since + c.worksetPages(), LIMIT);
                Path file = dir.resolve(c.key() + "-" + i + ".ferry");
                files.add(file);
                long t0 = System.nanoTime();
                WriteReport r = checkpointer.checkpoint(file, true);
                Sample s = new Sample(r.memory().pages(), r.fileBytes(), (System.nanoTime() - t0) / 1e9,
                        r.elapsed().toNanos() / 1e9);
                if (s.pages() < c.worksetPages()) {
                    throw new IllegalStateException(c.label() + ": incremental checkpoint " + i + " holds "
                            + s.pages() + " pages, fewer than the " + c.worksetPages() + " of the working set");
                }
                samples.add(s);
                progress.accept(String.format(Locale.ROOT, "incremental checkpoint, %s %d/%d: %d pages, %.1f KiB,"
                        + " %.1f ms", c.label(), i, repetitions, s.pages(), s.fileBytes() / 1024.0,
                        s.seconds() * 1e3));
            }
            notes.add(String.format(Locale.ROOT, "%s: its own full checkpoint held %d pages in %.1f KiB", c.label(),
                    full.memory().pages(), full.fileBytes() / 1024.0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            files.forEach(FullCheckpointAndRestore::delete);
        }
        return samples;
    }

    private static List<Double> samples(List<Sample> samples, ToDoubleFunction<Sample> f) {
        return samples.stream().map(f::applyAsDouble).toList();
    }
}
