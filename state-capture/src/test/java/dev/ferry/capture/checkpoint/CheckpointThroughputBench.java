package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Checkpoint write throughput of 512 MiB of touched, guest-like memory against the raw sequential write
 * bandwidth of the same disk, written the same way (8 MiB buffer, temporary file, fsync, rename, directory
 * fsync), interleaved. Run from the worktree root:
 * {@code mvn -B -q -pl state-capture -am test -Dtest=CheckpointThroughputBench -Dferry.bench=true
 * -Dsurefire.failIfNoSpecifiedTests=false}; the figures go to
 * {@code state-capture/target/surefire-reports/*CheckpointThroughputBench-output.txt} and stdout.
 */
class CheckpointThroughputBench {
    private static final long MEMORY = 512L << 20;
    private static final int RUNS = 3;

    @Test
    @EnabledIfSystemProperty(named = "ferry.bench", matches = "true")
    void checkpointWriteAgainstRawDiskBandwidth() throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "bench"));
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
            List<Double> ckRates = new ArrayList<>();
            for (int run = 0; run < RUNS; run++) {
                double rawRate = writeRaw(raw, MEMORY);
                Files.delete(raw);
                rawRates.add(rawRate);
                WriteReport r = new CheckpointWriter().write(ck, contents, memory, PageSelection.populated());
                Files.delete(ck);
                double touched = MEMORY / (r.elapsed().toNanos() / 1e9) / (1 << 20);
                ckRates.add(touched);
                System.out.printf("run %d: raw %.0f MiB/s | checkpoint %s; %.0f MiB/s of touched memory,"
                                + " file %.1f%% of touched memory%n", run, rawRate, r, touched,
                        100.0 * r.fileBytes() / MEMORY);
            }
            System.out.printf("median: raw sequential write %.0f MiB/s, checkpoint %.0f MiB/s of touched memory%n",
                    median(rawRates), median(ckRates));
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
