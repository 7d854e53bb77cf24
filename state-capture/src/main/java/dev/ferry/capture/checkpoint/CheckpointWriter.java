package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * Writes checkpoint files (format {@link FormatVersion#CURRENT}), atomically: the target appears complete and
 * synced, or a previous file of that name stays as it was. The VM must be paused for the whole write.
 * Sections go in this order: META, MACHINE, DEVICE (by name), TRAPLOG (if any, marked skippable), MEMORY.
 */
public final class CheckpointWriter {
    /** The write buffer: large, so the disk sees few, long writes. */
    public static final int BUFFER_BYTES = 8 << 20;

    private final LZ4Compressor compressor = LZ4Factory.fastestInstance().fastCompressor();

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
        MemoryStats stats;
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
            stats = MemoryWritePipeline.write(sink, memory, pages, compressor);
            sink.end();
            fileBytes = sink.finish();
            out.commit();
        }
        return new WriteReport(target, fileBytes, stats, Duration.ofNanos(System.nanoTime() - t0));
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
