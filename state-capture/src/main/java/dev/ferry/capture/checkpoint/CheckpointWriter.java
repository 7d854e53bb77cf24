package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * Writes checkpoint files (format {@link FormatVersion#CURRENT}), atomically: the target appears complete and
 * synced, or a previous file of that name stays as it was. The VM must be paused for the whole write.
 * Sections go in this order: META, MACHINE, DEVICE (by name), TRAPLOG (if any, marked skippable), MEMORY.
 * Memory blocks are sealed on a few compressing threads, started and joined by each {@link #write}, under a
 * {@link Compression} policy; {@link Compression#ADAPTIVE} learns the disk's write and sync time per byte from the
 * previous large file this writer wrote. A writer may be used by one thread at a time.
 */
public final class CheckpointWriter {
    /** The write buffer: large, so the disk sees few, long writes. */
    public static final int BUFFER_BYTES = 8 << 20;
    /** At most this many compressing threads, however many processors there are. */
    public static final int MAX_THREADS = 8;
    /** Files smaller than this teach nothing about the disk's time per byte: fixed costs dominate. */
    private static final long PACE_SAMPLE_BYTES = 4L * BUFFER_BYTES;

    private final LZ4Compressor compressor = LZ4Factory.fastestInstance().fastCompressor();
    private final Compression compression;
    private final int threads;
    private DiskPace disk = DiskPace.UNKNOWN;

    /**
     * A writer that compresses {@link Compression#ADAPTIVE adaptively} on as many threads as there are processors
     * (at most {@value #MAX_THREADS}): the VM is paused while it writes, so they are free.
     */
    public CheckpointWriter() {
        this(Compression.ADAPTIVE, defaultThreads());
    }

    /** A writer with the given policy and number of compressing threads (1 to {@value #MAX_THREADS}). */
    public CheckpointWriter(Compression compression, int threads) {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException(threads + " compressing threads; 1 to " + MAX_THREADS + " may run");
        }
        this.compression = Objects.requireNonNull(compression, "compression");
        this.threads = threads;
    }

    /** The processors this JVM may use, at most {@value #MAX_THREADS}. */
    public static int defaultThreads() {
        return Math.min(Runtime.getRuntime().availableProcessors(), MAX_THREADS);
    }

    public Compression compression() {
        return compression;
    }

    public int threads() {
        return threads;
    }

    /**
     * Writes {@code contents} and the {@code pages} of {@code memory} to {@code target}. A full checkpoint
     * ({@link PageSelection.Populated}) has no parent; an incremental one ({@link PageSelection.Dirty}) names one.
     */
    public WriteReport write(Path target, CheckpointContents contents, GuestMemory memory, PageSelection pages)
            throws IOException {
        CheckpointMeta meta = contents.meta();
        check(meta, memory, pages);
        long t0 = System.nanoTime();
        long fileBytes;
        MemoryWritePipeline.Result memoryResult;
        try (AtomicFile out = AtomicFile.create(target)) {
            SectionSink sink = new SectionSink(out.channel(), BUFFER_BYTES);
            sink.fileHeader(FormatVersion.CURRENT);
            sink.section(SectionType.META, 0, MetaCodec.encode(meta).toByteArray());
            sink.section(SectionType.MACHINE, 0, MachineStateCodec.encode(contents.machine()).toByteArray());
            for (Map.Entry<String, byte[]> d : contents.devices().entrySet()) {
                sink.section(SectionType.DEVICE, 0, new DeviceSection(d.getKey(), d.getValue()).encode());
            }
            byte[] trapLog = contents.trapLogSummary();
            if (trapLog.length > 0) {
                sink.section(SectionType.TRAPLOG, SectionInfo.MAY_SKIP, trapLog);
            }
            sink.begin(SectionType.MEMORY.code(), 0);
            byte[] preamble = new MemoryPreamble(memory.pageCount(), MemoryPreamble.MAX_BLOCK_PAGES,
                    meta.isIncremental()).encode();
            sink.put(preamble, 0, preamble.length);
            memoryResult = MemoryWritePipeline.write(sink, memory, pages, compressor, compression, threads, disk);
            sink.end();
            fileBytes = sink.finish();
            long syncNanos = out.commit();
            if (fileBytes >= PACE_SAMPLE_BYTES && memoryResult.writeNanosPerByte() > 0) {
                disk = new DiskPace(memoryResult.writeNanosPerByte(), (double) syncNanos / fileBytes);
            }
        }
        return new WriteReport(target, fileBytes, memoryResult.stats(), memoryResult.lz4Blocks(), threads,
                Duration.ofNanos(System.nanoTime() - t0), "");
    }

    private static void check(CheckpointMeta meta, GuestMemory memory, PageSelection pages) {
        if (meta.memorySize() != memory.size()) {
            throw new IllegalArgumentException("checkpoint " + meta.id() + " says " + meta.memorySize()
                    + " bytes of memory; the guest has " + memory.size());
        }
        boolean incremental = pages instanceof PageSelection.Dirty;
        if (incremental != meta.isIncremental()) {
            throw new IllegalArgumentException("checkpoint " + meta.id() + (incremental
                    ? " writes dirty pages only, so it must name a parent"
                    : " writes all populated pages, so it is full and must not name a parent"));
        }
        if (pages instanceof PageSelection.Dirty d && d.pages().pages() != memory.pageCount()) {
            throw new IllegalArgumentException("dirty bitmap of " + d.pages().pages() + " pages for a guest of "
                    + memory.pageCount());
        }
    }
}
