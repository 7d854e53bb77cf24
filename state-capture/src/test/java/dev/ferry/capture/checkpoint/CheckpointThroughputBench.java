package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Checkpoint write throughput of 512 MiB of touched, guest-like memory against the raw sequential write
 * bandwidth of the same disk, written the same way (8 MiB buffer, temporary file, fsync, rename, directory
 * fsync), interleaved: raw, then each writer (LZ4 on one thread as before, LZ4 on every processor, adaptive on
 * every processor, raw blocks only), three rounds, medians. Run from the worktree root:
 * {@code mvn -B -q -pl state-capture -am test -Dtest=CheckpointThroughputBench -Dferry.bench=true
 * -Dsurefire.failIfNoSpecifiedTests=false}; the figures go to
 * {@code state-capture/target/surefire-reports/*CheckpointThroughputBench-output.txt} and stdout.
 */
class CheckpointThroughputBench {
    private static final long MEMORY = 512L << 20;
    private static final int RUNS = 3;
    private static final double GOAL = 0.7;

    @Test
    @EnabledIfSystemProperty(named = "ferry.bench", matches = "true")
    void checkpointWriteAgainstRawDiskBandwidth() throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "bench"));
        int n = CheckpointWriter.defaultThreads();
        Map<String, CheckpointWriter> writers = new LinkedHashMap<>();
        writers.put("LZ4, 1 thread", new CheckpointWriter(Compression.ALWAYS, 1));
        writers.put("LZ4, " + n + " threads", new CheckpointWriter(Compression.ALWAYS, n));
        writers.put("adaptive, " + n + " threads", new CheckpointWriter(Compression.ADAPTIVE, n));
        writers.put("raw blocks", new CheckpointWriter(Compression.NEVER, n));
        try (GuestMemory memory = GuestMemory.allocate(MEMORY)) {
            byte[] scratch = new byte[GuestPages.PAGE];
            for (long p = 0; p < memory.pageCount(); p++) {
                GuestPages.write(memory, p, 2024, scratch);
            }
            CheckpointMeta meta = CheckpointMeta.full("bench", Instant.now(), "bench", "guest-like", MEMORY, Map.of());
            CheckpointContents contents = new CheckpointContents(meta, MachineStates.random(1, 1), Map.of(), new byte[0]);
            Path ck = dir.resolve("bench.ferry");
            Path raw = dir.resolve("raw.bin");
            new CheckpointWriter().write(ck, contents, memory, PageSelection.populated());
            Files.delete(ck);
            List<Double> rawRates = new ArrayList<>();
            Map<String, List<Double>> rates = new LinkedHashMap<>();
            for (int run = 0; run < RUNS; run++) {
                double rawRate = writeRaw(raw, MEMORY);
                Files.delete(raw);
                rawRates.add(rawRate);
                System.out.printf("run %d: raw %.0f MiB/s%n", run, rawRate);
                for (Map.Entry<String, CheckpointWriter> w : writers.entrySet()) {
                    WriteReport r = w.getValue().write(ck, contents, memory, PageSelection.populated());
                    Files.delete(ck);
                    double touched = MEMORY / (r.elapsed().toNanos() / 1e9) / (1 << 20);
                    rates.computeIfAbsent(w.getKey(), k -> new ArrayList<>()).add(touched);
                    System.out.printf("  %-20s %4.0f MiB/s of touched memory, file %.1f%% of it | %s%n", w.getKey(),
                            touched, 100.0 * r.fileBytes() / MEMORY, r);
                }
            }
            double rawMedian = median(rawRates);
            System.out.printf("median: raw sequential write %.0f MiB/s%n", rawMedian);
            rates.forEach((name, xs) -> System.out.printf("  %-20s %4.0f MiB/s of touched memory, %.2f x raw%s%n",
                    name, median(xs), median(xs) / rawMedian,
                    median(xs) / rawMedian >= GOAL ? "" : " (below the goal of " + GOAL + " x)"));
        }
    }

    /** Writes {@code bytes} through an 8 MiB direct buffer as the checkpoint writer does; returns MiB/s. */
    private static double writeRaw(Path target, long bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(CheckpointWriter.BUFFER_BYTES);
        byte[] fill = new byte[CheckpointWriter.BUFFER_BYTES];
        new SplittableRandom(7).nextBytes(fill);
        buffer.put(fill);
        long t0 = System.nanoTime();
        try (AtomicFile out = AtomicFile.create(target)) {
            for (long written = 0; written < bytes; written += buffer.capacity()) {
                buffer.clear();
                while (buffer.hasRemaining()) {
                    out.channel().write(buffer);
                }
            }
            out.commit();
        }
        return bytes / ((System.nanoTime() - t0) / 1e9) / (1 << 20);
    }

    private static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        return s.get(s.size() / 2);
    }
}
