package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import net.jpountz.lz4.LZ4Compressor;

/**
 * Streams the blocks of a MEMORY section: the calling thread reads and compresses pages into a few reusable
 * {@link BlockBuffer}s, a writer thread writes them out, so reading and compressing overlap writing. The free
 * buffers are the back-pressure; a failure on either side stops both, and the writer's is thrown here.
 */
final class MemoryWritePipeline implements LongConsumer {
    private static final int BUFFERS = 4;

    private final GuestMemory memory;
    private final boolean keepZero;
    private final LZ4Compressor compressor;
    private final BlockingQueue<BlockBuffer> free = new ArrayBlockingQueue<>(BUFFERS);
    private final BlockingQueue<BlockBuffer> full = new ArrayBlockingQueue<>(BUFFERS + 1);
    private final BlockBuffer end = BlockBuffer.marker();
    private final AtomicReference<Throwable> writerFailure = new AtomicReference<>();
    private BlockBuffer current;
    private long lastPage = -1;
    private long blocks;
    private long pages;
    private long zeroPages;
    private long storedBytes;

    private MemoryWritePipeline(GuestMemory memory, boolean keepZero, LZ4Compressor compressor) {
        this.memory = memory;
        this.keepZero = keepZero;
        this.compressor = compressor;
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new BlockBuffer(compressor));
        }
    }

    /** Writes every selected page of {@code memory} as blocks into the open section of {@code sink}. */
    static MemoryStats write(SectionSink sink, GuestMemory memory, PageSelection selection, LZ4Compressor compressor)
            throws IOException {
        MemoryWritePipeline p = new MemoryWritePipeline(memory, selection instanceof PageSelection.Dirty, compressor);
        Thread writer = new Thread(() -> p.drainTo(sink), "checkpoint-writer");
        writer.setDaemon(true);
        writer.start();
        RuntimeException producerFailure = null;
        try {
            if (selection instanceof PageSelection.Dirty d) {
                d.pages().forEach(p);
            } else {
                memory.forEachPopulatedPage(p);
            }
            p.emit();
        } catch (RuntimeException e) {
            producerFailure = e;
        } finally {
            p.full.add(p.end);
            joinUninterruptibly(writer);
        }
        Throwable w = p.writerFailure.get();
        if (w instanceof IOException io) {
            throw io;
        }
        if (w != null) {
            throw new IllegalStateException("checkpoint writer failed", w);
        }
        if (producerFailure instanceof Stop stop) {
            throw stop.reason;
        }
        if (producerFailure != null) {
            throw producerFailure;
        }
        return new MemoryStats(p.blocks, p.pages, p.zeroPages, p.storedBytes);
    }

    @Override
    public void accept(long page) {
        if (page <= lastPage) {
            throw new IllegalStateException("page " + page + " after page " + lastPage + ": pages must ascend");
        }
        lastPage = page;
        if (current != null && !current.accepts(page)) {
            emit();
        }
        if (current == null) {
            current = takeFree();
            current.start(page);
        }
        current.add(memory, page, keepZero);
    }

    private void emit() {
        BlockBuffer b = current;
        current = null;
        if (b == null) {
            return;
        }
        if (b.isEmpty()) {
            free.add(b);
            return;
        }
        b.seal(compressor);
        blocks++;
        pages += b.presentCount();
        zeroPages += b.zeroCount();
        storedBytes += b.storedLength();
        full.add(b);
    }

    private BlockBuffer takeFree() {
        try {
            while (true) {
                if (writerFailure.get() != null) {
                    throw new Stop(new IOException("checkpoint writer stopped"));
                }
                BlockBuffer b = free.poll(20, TimeUnit.MILLISECONDS);
                if (b != null) {
                    return b;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stop(new InterruptedIOException("interrupted while writing a checkpoint"));
        }
    }

    private void drainTo(SectionSink sink) {
        try {
            while (true) {
                BlockBuffer b = full.take();
                if (b == end) {
                    return;
                }
                b.writeTo(sink);
                free.add(b);
            }
        } catch (Throwable t) {
            writerFailure.set(t);
        }
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends the page walk when the writer has failed or the thread is interrupted. */
    private static final class Stop extends RuntimeException {
        final IOException reason;

        Stop(IOException reason) {
            super(reason.getMessage(), null, false, false);
            this.reason = reason;
        }
    }
}
