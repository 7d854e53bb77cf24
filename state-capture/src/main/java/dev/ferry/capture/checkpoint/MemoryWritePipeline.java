package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import net.jpountz.lz4.LZ4Compressor;

/**
 * Streams the blocks of a MEMORY section through three stages: the calling thread walks the selected pages and
 * reads them into reusable {@link BlockBuffer}s, a few compressing threads seal the blocks in parallel, and a writer
 * thread writes them in page order. Blocks are numbered as they are filled; a sealed block waits in a reorder
 * window until every block before it is written. At most {@code 2 × threads + 2} buffers exist (allocated when
 * first needed), so they are the back-pressure and bound the reorder window. The first failure on any thread stops
 * all of them; every thread is joined before {@link #write} returns or throws, and the writer's failure is thrown
 * first.
 */
final class MemoryWritePipeline implements LongConsumer {
    private final GuestMemory memory;
    private final boolean keepZero;
    private final LZ4Compressor compressor;
    private final Compression compression;
    private final int maxBuffers;

    private final Object lock = new Object();
    private final ArrayDeque<BlockBuffer> free = new ArrayDeque<>();
    private final ArrayDeque<BlockBuffer> toSeal = new ArrayDeque<>();
    private final BlockBuffer[] sealed;
    private final CompressionPace pace;
    private int allocated;
    private long filled;
    private long nextToWrite;
    private boolean walkDone;
    private Throwable failure;
    private Throwable writerFailure;

    private BlockBuffer current;
    private long lastPage = -1;

    private long blocks;
    private long pages;
    private long zeroPages;
    private long storedBytes;
    private long lz4Blocks;

    private MemoryWritePipeline(GuestMemory memory, boolean keepZero, LZ4Compressor compressor,
                                Compression compression, int threads, DiskPace disk) {
        this.memory = memory;
        this.keepZero = keepZero;
        this.compressor = compressor;
        this.compression = compression;
        this.pace = new CompressionPace(threads, disk);
        this.maxBuffers = 2 * threads + 2;
        this.sealed = new BlockBuffer[maxBuffers];
    }

    /**
     * What the section holds, how many of its blocks are LZ4, and the writer thread's time per file byte (0 if its
     * buffer was never flushed).
     */
    record Result(MemoryStats stats, long lz4Blocks, double writeNanosPerByte) {}

    /**
     * Writes every selected page of {@code memory} as blocks into the open section of {@code sink}, sealing them on
     * {@code threads} threads (1 to {@link CheckpointWriter#MAX_THREADS}, checked by the writer).
     * {@code disk} is what the writer learned from its previous file ({@link CompressionPace}).
     */
    static Result write(SectionSink sink, GuestMemory memory, PageSelection selection, LZ4Compressor compressor,
                        Compression compression, int threads, DiskPace disk) throws IOException {
        Consumer<LongConsumer> walk = selection instanceof PageSelection.Dirty d ? d.pages()::forEach
                : memory::forEachPopulatedPage;
        return write(sink, memory, selection instanceof PageSelection.Dirty, walk, compressor, compression, threads,
                disk);
    }

    /**
     * Writes the pages {@code walk} gives (ascending) as blocks; all-zero pages are kept as zero pages if
     * {@code keepZero}, else left out.
     */
    static Result write(SectionSink sink, GuestMemory memory, boolean keepZero, Consumer<LongConsumer> walk,
                        LZ4Compressor compressor, Compression compression, int threads, DiskPace disk)
            throws IOException {
        MemoryWritePipeline p = new MemoryWritePipeline(memory, keepZero, compressor, compression, threads, disk);
        List<Thread> started = new ArrayList<>(threads + 1);
        try {
            started.add(start(() -> p.writeBlocks(sink), "checkpoint-writer"));
            for (int i = 0; i < threads; i++) {
                started.add(start(p::sealBlocks, "checkpoint-compress-" + i));
            }
            walk.accept(p);
            p.emit();
        } catch (Stop stop) {
            // the failure that stopped the walk is recorded
        } catch (Throwable t) {
            p.fail(t);
        } finally {
            p.walkDone();
            for (Thread t : started) {
                joinUninterruptibly(t);
            }
        }
        p.throwFailure();
        double writeNanosPerByte;
        synchronized (p.lock) {
            writeNanosPerByte = p.pace.writeNanosPerByte();
        }
        return new Result(new MemoryStats(p.blocks, p.pages, p.zeroPages, p.storedBytes), p.lz4Blocks,
                writeNanosPerByte);
    }

    private static Thread start(Runnable body, String name) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
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

    /** Hands the block being filled, if it holds any page, to the compressing threads. */
    private void emit() {
        BlockBuffer b = current;
        current = null;
        if (b == null) {
            return;
        }
        synchronized (lock) {
            if (b.isEmpty()) {
                free.push(b);
            } else {
                b.sequence(filled++);
                toSeal.add(b);
                lock.notifyAll();
            }
        }
    }

    private BlockBuffer takeFree() {
        synchronized (lock) {
            while (true) {
                if (failure != null) {
                    throw new Stop(new IOException("checkpoint writing stopped"));
                }
                BlockBuffer b = free.poll();
                if (b != null) {
                    return b;
                }
                if (allocated < maxBuffers) {
                    allocated++;
                    break;
                }
                await();
            }
        }
        return new BlockBuffer(compressor);
    }

    /** Waits on the lock; an interrupt stops the whole write. Called holding the lock. */
    private void await() {
        try {
            lock.wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException stop = new InterruptedIOException("interrupted while writing a checkpoint");
            fail(stop);
            throw new Stop(stop);
        }
    }

    /** A compressing thread: seals blocks in the order they were filled until the walk is done or a thread fails. */
    private void sealBlocks() {
        try {
            while (true) {
                BlockBuffer b;
                boolean tryLz4;
                synchronized (lock) {
                    while (failure == null && toSeal.isEmpty() && !walkDone) {
                        await();
                    }
                    if (failure != null || toSeal.isEmpty()) {
                        return;
                    }
                    b = toSeal.poll();
                    tryLz4 = switch (compression) {
                        case ALWAYS -> true;
                        case NEVER -> false;
                        case ADAPTIVE -> pace.worthCompressing();
                    };
                }
                long t0 = System.nanoTime();
                b.seal(compressor, tryLz4);
                long nanos = System.nanoTime() - t0;
                synchronized (lock) {
                    if (tryLz4 && b.dataBytes() > 0) {
                        pace.compressed(b.dataBytes(), b.storedLength(), nanos);
                    }
                    sealed[slot(b.sequence())] = b;
                    lock.notifyAll();
                }
            }
        } catch (Stop stop) {
            // the failure is recorded
        } catch (Throwable t) {
            fail(t);
        }
    }

    /** The writer thread: writes sealed blocks in sequence until the last one is written or a thread fails. */
    private void writeBlocks(SectionSink sink) {
        try {
            while (true) {
                BlockBuffer b;
                synchronized (lock) {
                    int slot = slot(nextToWrite);
                    while (failure == null && sealed[slot] == null && !(walkDone && nextToWrite == filled)) {
                        await();
                    }
                    if (failure != null || sealed[slot] == null) {
                        return;
                    }
                    b = sealed[slot];
                    sealed[slot] = null;
                }
                long t0 = System.nanoTime();
                b.writeTo(sink);
                long nanos = System.nanoTime() - t0;
                blocks++;
                pages += b.presentCount();
                zeroPages += b.zeroCount();
                storedBytes += b.storedLength();
                lz4Blocks += b.isLz4() ? 1 : 0;
                synchronized (lock) {
                    pace.written(b.fileBytes(), nanos, sink.hasFlushed());
                    nextToWrite++;
                    free.push(b);
                    lock.notifyAll();
                }
            }
        } catch (Stop stop) {
            // the failure is recorded
        } catch (Throwable t) {
            synchronized (lock) {
                writerFailure = t;
            }
            fail(t);
        }
    }

    /** The reorder window: a sealed block's place, free because fewer blocks than slots are in flight. */
    private int slot(long sequence) {
        return (int) (sequence % maxBuffers);
    }

    private void fail(Throwable t) {
        synchronized (lock) {
            if (failure == null) {
                failure = t;
            } else if (failure != t) {
                failure.addSuppressed(t);
            }
            lock.notifyAll();
        }
    }

    private void walkDone() {
        synchronized (lock) {
            walkDone = true;
            lock.notifyAll();
        }
    }

    /** Throws the writer's failure if it had one, else the first failure; called after every thread ended. */
    private void throwFailure() throws IOException {
        Throwable t;
        synchronized (lock) {
            t = writerFailure != null ? writerFailure : failure;
        }
        if (t == null) {
            return;
        }
        if (t instanceof IOException io) {
            throw io;
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("checkpoint writing failed", t);
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

    /** Ends the page walk or a thread's loop once the write has failed or the walking thread is interrupted. */
    private static final class Stop extends RuntimeException {
        final IOException reason;

        Stop(IOException reason) {
            super(reason.getMessage(), null, false, false);
            this.reason = reason;
        }
    }
}
