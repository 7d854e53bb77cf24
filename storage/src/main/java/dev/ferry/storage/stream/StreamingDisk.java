package dev.ferry.storage.stream;

import dev.ferry.vmm.devices.virtio.blk.BlockStore;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A disk the guest can use at once while its image streams in from a {@link RemoteImage}: a local sparse file plus a
 * {@link BlockBitmap} ({@code IMAGE.blocks}) of the blocks already local.
 *
 * <ul>
 *   <li>A guest read of a block that is not local fetches it (and a few following ones) on demand, writes it locally
 *       and marks it; reads of local blocks go straight to the file.</li>
 *   <li>A guest write goes to the local file; a write that covers only part of a block that is not local first
 *       fetches the block, so the local block is always whole. A marked block is never written by the copier.</li>
 *   <li>A background copier fills the rest, pausing while the guest does I/O and going at full speed while idle:
 *       {@code copyStreams} threads on a connection of their own (so the guest's fetches never queue behind them),
 *       each fetching a batch of blocks it has claimed ({@link CopyClaims}) and writing it while the others fetch.</li>
 *   <li>Before fetching, the copier asks the source which ranges read as zeros ({@link SourceZeros}, a block status
 *       of 64 MiB at a time); a block wholly in one is marked local without a fetch (in a created file it is already
 *       a hole). A block the guest wrote is local already, so it is never touched. The status counts the bytes that
 *       crossed the wire apart from those skipped as zeros.</li>
 *   <li>Zeros stay holes: of each block fetched, only the 4 KiB granules that are not all zero are written
 *       ({@link Holes}). A block that is not local is a hole in a file this disk created; in a resumed file it may
 *       hold bytes written before a crash whose bit was never stored, so there the zero granules are compared with
 *       the file and overwritten where they differ.</li>
 *   <li>Durability: the bitmap is written only with bits whose data has been written and then forced
 *       ({@code fdatasync}); a crash may lose bits (those blocks are fetched again) but never marks a block local that
 *       is not. The copier makes its blocks durable in batches, every {@code persistInterval}, on a thread of its own
 *       (data forced, then the bitmap written and forced). A guest flush forces the data and then the bitmap.</li>
 *   <li>When the source is unreachable, fetches retry with backoff (the guest's read waits); the status says
 *       {@code image server unreachable: ...}. A local write error (a full disk) stops the disk in phase FAILED.</li>
 *   <li>Opening an image whose bitmap exists resumes: only the blocks not marked are copied.</li>
 * </ul>
 * When every block is local, {@link #whenComplete()} completes: the caller may then switch the guest to a plain local
 * file and stop virtualizing its disk.
 */
public final class StreamingDisk implements BlockStore {
    private static final Logger log = LoggerFactory.getLogger(StreamingDisk.class);
    public static final String UNREACHABLE = "image server unreachable: ";
    private static final int STRIPES = 64;
    private static final long MAX_BACKOFF_MS = 2000;

    /**
     * How the disk streams. {@code copyBatchBlocks}: blocks in one copier fetch; {@code copyRateLimit} in bytes per
     * second (0: unlimited); {@code guestYield}: the copier pauses until the guest has been idle this long;
     * {@code persistInterval}: how often the copier persists the bitmap; {@code copyStreams}: copier fetches in flight
     * at once (each a thread writing its batch while the others fetch).
     */
    public record Options(int blockSize, int readAheadBlocks, int copyBatchBlocks, Duration guestYield,
                          long copyRateLimit, Duration persistInterval, int copyStreams) {
        public Options {
            if (copyStreams < 1 || copyStreams > 16) {
                throw new IllegalArgumentException("copy streams " + copyStreams + " must be in [1, 16]");
            }
            if (blockSize < 4096 || Integer.bitCount(blockSize) != 1 || blockSize > (16 << 20)) {
                throw new IllegalArgumentException("block size " + blockSize + " must be a power of two in [4 KiB, 16 MiB]");
            }
            if (readAheadBlocks < 0 || copyBatchBlocks < 1 || (long) copyBatchBlocks * blockSize > (64 << 20)) {
                throw new IllegalArgumentException("read-ahead " + readAheadBlocks + " and batch " + copyBatchBlocks
                        + " blocks must be >= 0 and >= 1, the batch at most 64 MiB");
            }
        }

        /**
         * 1 MiB blocks, 4 blocks of read-ahead, 8-block copier batches, 4 of them in flight, a 5 ms guest yield, no
         * rate limit, a persist every 250 ms.
         */
        public static Options defaults() {
            return new Options(1 << 20, 4, 8, Duration.ofMillis(5), 0, Duration.ofMillis(250), 4);
        }

        public Options withCopyRateLimit(long bytesPerSecond) {
            return new Options(blockSize, readAheadBlocks, copyBatchBlocks, guestYield, bytesPerSecond, persistInterval,
                    copyStreams);
        }

        public Options withBlockSize(int bytes) {
            return new Options(bytes, readAheadBlocks, copyBatchBlocks, guestYield, copyRateLimit, persistInterval,
                    copyStreams);
        }

        public Options withCopyStreams(int streams) {
            return new Options(blockSize, readAheadBlocks, copyBatchBlocks, guestYield, copyRateLimit, persistInterval,
                    streams);
        }
    }

    private final Path image;
    private final FileChannel data;
    private final BlockBitmap bitmap;
    private final RemoteImage source;
    /** The copier's connection: another one to the source where it has such a thing, else the source itself. */
    private final RemoteImage copySource;
    private final Options options;
    private final long capacity;
    private final int blockSize;
    private final long blocks;
    private final AtomicLongArray local;
    private final AtomicLong localCount = new AtomicLong();
    private final CopyClaims claims;
    /** Whether a block not marked local may hold bytes in the file (a resumed file), rather than be a hole. */
    private final boolean unmarkedMayHoldData;
    private final byte[] zeros;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private final Object persistLock = new Object();
    private final Object wakeup = new Object();
    private final CompletableFuture<Void> complete = new CompletableFuture<>();
    private final AtomicLong bytesCopied = new AtomicLong();
    private final AtomicLong guestReads = new AtomicLong();
    private final AtomicLong guestWrites = new AtomicLong();
    private final AtomicLong guestFetches = new AtomicLong();
    private final AtomicLong remoteRetries = new AtomicLong();
    /** Bytes of blocks made local because the source said they read as zeros, without a fetch. */
    private final AtomicLong skippedZeros = new AtomicLong();
    private final SourceZeros sourceZeros;
    private final long startNanos = System.nanoTime();
    private final Thread[] copiers;
    /** Runs the copier's periodic persists, so the copy goes on while the data is forced. */
    private final java.util.concurrent.ExecutorService persister;
    private final java.util.concurrent.atomic.AtomicBoolean persisting = new java.util.concurrent.atomic.AtomicBoolean();
    private final AtomicLong lastPersist = new AtomicLong(System.nanoTime());
    private final Object pacing = new Object();
    private long paced;
    private long pacedSince = System.nanoTime();
    private long pacedRate;
    private volatile long lastGuestIo;
    private volatile long copyRateLimit;
    private volatile String unreachable;
    private volatile String failure;
    private volatile boolean closed;

    private StreamingDisk(Path image, FileChannel data, BlockBitmap bitmap, RemoteImage source, RemoteImage copySource,
                          Options options, long[] words, boolean resumed) {
        this.image = image;
        this.data = data;
        this.bitmap = bitmap;
        this.source = source;
        this.copySource = copySource;
        this.options = options;
        this.unmarkedMayHoldData = resumed;
        this.capacity = source.size();
        this.blockSize = options.blockSize();
        this.blocks = bitmap.blocks();
        this.local = new AtomicLongArray(words);
        for (long w : words) {
            localCount.addAndGet(Long.bitCount(w));
        }
        this.claims = new CopyClaims(local, blocks);
        this.sourceZeros = new SourceZeros(copySource, capacity);
        this.zeros = new byte[blockSize];
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
        this.lastGuestIo = System.nanoTime() - options.guestYield().toNanos();
        this.copyRateLimit = options.copyRateLimit();
        this.pacedRate = copyRateLimit;
        this.copiers = new Thread[options.copyStreams()];
        int batchBytes = (int) Math.min((long) options.copyBatchBlocks() * blockSize, capacity);
        for (int i = 0; i < copiers.length; i++) {
            ByteBuffer buf = ByteBuffer.allocate(batchBytes);   // reused: one batch in flight per thread
            byte[] scratch = resumed ? new byte[Holes.GRANULE] : null;
            copiers[i] = new Thread(() -> copyLoop(buf, scratch), "streaming-disk-copier-" + i + "-"
                    + image.getFileName());
            copiers[i].setDaemon(true);
        }
        this.persister = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "streaming-disk-persist-" + image.getFileName());
            t.setDaemon(true);
            return t;
        });
    }

    /** The bitmap file of {@code image}. */
    public static Path bitmapOf(Path image) {
        return image.resolveSibling(image.getFileName() + ".blocks");
    }

    /**
     * Opens {@code image} streamed from {@code source}: creates the sparse file and its bitmap when neither exists,
     * resumes when both do, and starts the copier.
     */
    public static StreamingDisk open(Path image, RemoteImage source, Options options) throws IOException {
        return open(image, source, options, p -> FileChannel.open(p, StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    /** How the local image file is opened: read, write, created if missing (tests put a failing disk under it). */
    public interface LocalFiles {
        FileChannel open(Path image) throws IOException;
    }

    /** As {@link #open(Path, RemoteImage, Options)}, with the local file opened by {@code files}. */
    public static StreamingDisk open(Path image, RemoteImage source, Options options, LocalFiles files)
            throws IOException {
        long capacity = source.size();
        if (capacity % 512 != 0) {
            throw new IOException("image " + source.describe() + " is " + capacity
                    + " bytes, not a whole number of 512-byte sectors");
        }
        Path bits = bitmapOf(image);
        boolean imageExists = Files.exists(image);
        boolean bitsExist = Files.exists(bits);
        if (imageExists && !bitsExist) {
            throw new IOException("local image " + image + " exists without its block bitmap " + bits
                    + ": which blocks are local is unknown; delete the image to stream it anew");
        }
        if (!imageExists && bitsExist) {
            throw new IOException("block bitmap " + bits + " exists without its image " + image
                    + ": delete the bitmap to stream the image anew");
        }
        FileChannel data = files.open(image);
        BlockBitmap bitmap = null;
        try {
            if (!imageExists) {
                data.truncate(0);
                data.write(ByteBuffer.allocate(1), capacity - 1);   // a sparse file of the full size
                data.force(true);
                bitmap = BlockBitmap.create(bits, options.blockSize(), capacity, source.describe());
            } else {
                if (data.size() != capacity) {
                    throw new IOException("local image " + image + " is " + data.size() + " bytes, its source "
                            + source.describe() + " " + capacity);
                }
                bitmap = BlockBitmap.open(bits, options.blockSize(), capacity, source.describe());
            }
            long[] words = bitmap.load();
            RemoteImage copySource = source;
            try {
                copySource = source.openAnother();
            } catch (IOException e) {
                log.warn("{}: no second connection to {} for the copier ({}); it shares the guest's", image,
                        source.describe(), e.getMessage());
            }
            StreamingDisk d = new StreamingDisk(image, data, bitmap, source, copySource, options, words, imageExists);
            log.info("streaming disk {} from {}: {} of {} blocks local", image, source.describe(), d.localCount.get(),
                    d.blocks);
            for (Thread t : d.copiers) {
                t.start();
            }
            return d;
        } catch (IOException | RuntimeException e) {
            data.close();
            if (bitmap != null) {
                bitmap.close();
            }
            throw e;
        }
    }

    // ---- BlockStore ----

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public String id() {
        return "ferry:" + image.getFileName();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkUsable();
        checkRange(offset, dst.remaining());
        noteGuestIo();
        guestReads.incrementAndGet();
        if (dst.remaining() == 0) {
            return;
        }
        long first = offset / blockSize;
        long last = (offset + dst.remaining() - 1) / blockSize;
        for (long b = first; b <= last; b++) {
            if (!isLocal(b)) {
                fetchForGuest(b);
            }
        }
        long pos = offset;
        while (dst.hasRemaining()) {
            int n;
            try {
                n = data.read(dst, pos);
            } catch (IOException e) {
                throw localFailure("reading", e);
            }
            if (n < 0) {
                throw new IOException("local image " + image + " ends at " + pos);
            }
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkUsable();
        checkRange(offset, src.remaining());
        noteGuestIo();
        guestWrites.incrementAndGet();
        long pos = offset;
        while (src.hasRemaining()) {
            long b = pos / blockSize;
            long blockStart = b * blockSize;
            int blockLen = blockLength(b);
            int inBlock = (int) (pos - blockStart);
            int n = Math.min(src.remaining(), blockLen - inBlock);
            ByteBuffer part = src.slice();
            part.limit(n);
            boolean whole = inBlock == 0 && n == blockLen;
            ByteBuffer remote = null;
            if (!whole && !isLocal(b)) {
                remote = fetch(blockStart, blockLen);   // outside the lock: the network may be slow
            }
            ReentrantLock lock = lockOf(b);
            lock.lock();
            try {
                if (isLocal(b) || whole) {
                    writeLocal(pos, part);
                } else {
                    remote.position(inBlock);
                    remote.put(part);
                    remote.clear();
                    writeLocal(blockStart, remote);
                    bytesCopied.addAndGet(blockLen);
                }
                markLocal(b);
            } finally {
                lock.unlock();
            }
            src.position(src.position() + n);
            pos += n;
        }
    }

    /** Forces the data, then the bitmap: every write completed before this call survives a crash. */
    @Override
    public void flush() throws IOException {
        checkUsable();
        noteGuestIo();
        persist();
    }

    // ---- progress ----

    public boolean isComplete() {
        return complete.isDone() && !complete.isCompletedExceptionally();
    }

    /** Completes when every block is local (and the bitmap says so durably); fails if the disk fails first. */
    public CompletableFuture<Void> whenComplete() {
        return complete.copy();
    }

    public StreamingStatus status() {
        StreamingStatus.Phase phase;
        String message;
        if (failure != null) {
            phase = StreamingStatus.Phase.FAILED;
            message = failure;
        } else if (closed) {
            phase = StreamingStatus.Phase.CLOSED;
            message = "closed";
        } else if (isComplete()) {
            phase = StreamingStatus.Phase.COMPLETE;
            message = "complete";
        } else {
            phase = StreamingStatus.Phase.STREAMING;
            String u = unreachable;
            message = u != null ? u : "streaming";
        }
        double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
        long copied = bytesCopied.get();
        long wire = wireBytes();
        return new StreamingStatus(phase, message, localCount.get(), blocks, blockSize, copied, copied / seconds,
                guestReads.get(), guestWrites.get(), guestFetches.get(), remoteRetries.get(), wire,
                holeBytes(), wire / seconds);
    }

    /** Image bytes whose data crossed the network, on the guest's connection and the copier's. */
    private long wireBytes() {
        return source.bytesReceived() + (copySource != source ? copySource.bytesReceived() : 0);
    }

    /** Image bytes made local without their data crossing: blocks skipped as zeros, and zeros sent as holes. */
    private long holeBytes() {
        return skippedZeros.get() + source.zeroBytesReceived()
                + (copySource != source ? copySource.zeroBytesReceived() : 0);
    }

    public Path image() {
        return image;
    }

    /** Limits the background copy to {@code bytesPerSecond} (0: unlimited); guest fetches are never limited. */
    public void throttle(long bytesPerSecond) {
        copyRateLimit = Math.max(0, bytesPerSecond);
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
    }

    public RemoteImage source() {
        return source;
    }

    // ---- blocks ----

    boolean isLocal(long b) {
        return (local.get((int) (b >>> 6)) & (1L << (b & 63))) != 0;
    }

    /** Marks block {@code b} local in memory (its data is written); the next persist makes it durable. */
    private void markLocal(long b) {
        int w = (int) (b >>> 6);
        long bit = 1L << (b & 63);
        long old = local.getAndUpdate(w, x -> x | bit);
        if ((old & bit) == 0 && localCount.incrementAndGet() == blocks) {
            synchronized (wakeup) {
                wakeup.notifyAll();   // the copier finishes up
            }
        }
    }

    private int blockLength(long b) {
        return (int) Math.min(blockSize, capacity - b * blockSize);
    }

    private ReentrantLock lockOf(long b) {
        return stripes[(int) (b % STRIPES)];
    }

    /** Fetches block {@code b} and up to readAhead following blocks that are not local, and installs them. */
    private void fetchForGuest(long b) throws IOException {
        int run = 1;
        while (run <= options.readAheadBlocks() && b + run < blocks && !isLocal(b + run)) {
            run++;
        }
        long start = b * blockSize;
        int len = (int) Math.min((long) run * blockSize, capacity - start);
        ByteBuffer buf = fetch(start, len);
        guestFetches.incrementAndGet();
        install(b, run, buf, new byte[Holes.GRANULE]);
    }

    /**
     * Writes each of {@code count} blocks from {@code buf} (a heap buffer from position 0) that is still not local,
     * and marks it. {@code scratch} is a granule's room to compare the file with where it may hold stale bytes.
     */
    private void install(long first, int count, ByteBuffer buf, byte[] scratch) throws IOException {
        install(first, count, buf, scratch, null);
    }

    /**
     * Installs fetched blocks; granules set in {@code knownZero} (counted from the buffer's first byte; null: none)
     * were sent as holes and hold anything in {@code buf}: they are taken as zeros, not read.
     */
    private void install(long first, int count, ByteBuffer buf, byte[] scratch, java.util.BitSet knownZero)
            throws IOException {
        for (int i = 0; i < count; i++) {
            long b = first + i;
            int len = blockLength(b);
            ReentrantLock lock = lockOf(b);
            lock.lock();
            try {
                if (!isLocal(b)) {
                    int granuleBase = i * (blockSize / Holes.GRANULE);
                    writeBlock(b * blockSize, buf.array(), buf.arrayOffset() + i * blockSize, len, scratch,
                            knownZero == null ? g -> false : g -> knownZero.get(granuleBase + g));
                    markLocal(b);
                    bytesCopied.addAndGet(len);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Writes a fetched block that is not local at {@code pos}: its data granules, and of its zero granules only those
     * the file does not already read as zero (none in a file this disk created: the block is still a hole there).
     */
    private void writeBlock(long pos, byte[] a, int off, int len, byte[] scratch) throws IOException {
        writeBlock(pos, a, off, len, scratch, g -> false);
    }

    private void writeBlock(long pos, byte[] a, int off, int len, byte[] scratch,
                            java.util.function.IntPredicate knownZero) throws IOException {
        for (Holes.Run r : Holes.runs(a, off, len, knownZero)) {
            long at = pos + (r.offset() - off);
            if (!r.zero()) {
                writeLocal(at, ByteBuffer.wrap(a, r.offset(), r.length()));
            } else if (unmarkedMayHoldData) {
                for (int g = 0; g < r.length(); g += Holes.GRANULE) {
                    int n = Math.min(Holes.GRANULE, r.length() - g);
                    ByteBuffer old = ByteBuffer.wrap(scratch, 0, n);
                    readLocal(at + g, old);
                    if (!Holes.isZero(scratch, 0, n)) {
                        writeLocal(at + g, ByteBuffer.wrap(zeros, 0, n));
                    }
                }
            }
        }
    }

    /**
     * Makes block {@code b} local without fetching it, the source having said it reads as zeros: a hole in a created
     * file already is; in a resumed one its granules are compared with zeros and overwritten where they differ. A
     * block already local (the guest wrote it) is left alone.
     */
    private void installZero(long b, byte[] scratch) throws IOException {
        ReentrantLock lock = lockOf(b);
        lock.lock();
        try {
            if (!isLocal(b)) {
                int len = blockLength(b);
                writeBlock(b * blockSize, zeros, 0, len, scratch);
                markLocal(b);
                bytesCopied.addAndGet(len);
                skippedZeros.addAndGet(len);
            }
        } finally {
            lock.unlock();
        }
    }

    private boolean zeroAtSource(long b) {
        return sourceZeros.allZero(b * blockSize, blockLength(b));
    }

    /** Reads {@code len} bytes of the source; while it is unreachable, retries with backoff until closed. */
    private ByteBuffer fetch(long offset, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(len);
        fetchInto(source, offset, buf);
        return buf;
    }

    /**
     * Fills {@code buf} (position to limit) from {@code offset} of {@code from}; while the source is unreachable,
     * retries with backoff until closed. On return the buffer's position is back where it was.
     */
    private void fetchInto(RemoteImage from, long offset, ByteBuffer buf) throws IOException {
        fetchInto(from, offset, buf, null);
    }

    /**
     * As {@link #fetchInto(RemoteImage, long, ByteBuffer)}; with {@code knownZero}, the granules the source sends as
     * holes are set in it (counted from the buffer's position) and not filled in {@code buf}; the bytes of a hole that
     * only partly covers a granule are filled.
     */
    private void fetchInto(RemoteImage from, long offset, ByteBuffer buf, java.util.BitSet knownZero)
            throws IOException {
        int start = buf.position();
        long backoff = 20;
        while (true) {
            if (closed) {
                throw new IOException("streaming disk " + image + " is closed");
            }
            try {
                buf.position(start);
                if (knownZero == null) {
                    from.read(offset, buf);
                } else {
                    knownZero.clear();
                    byte[] a = buf.array();
                    int base = buf.arrayOffset() + start;
                    from.read(offset, buf, (at, n) -> {
                        int g0 = (at + Holes.GRANULE - 1) / Holes.GRANULE;
                        int g1 = (at + n) / Holes.GRANULE;
                        if (g1 > g0) {
                            knownZero.set(g0, g1);
                            java.util.Arrays.fill(a, base + at, base + g0 * Holes.GRANULE, (byte) 0);
                            java.util.Arrays.fill(a, base + g1 * Holes.GRANULE, base + at + n, (byte) 0);
                        } else {
                            java.util.Arrays.fill(a, base + at, base + at + n, (byte) 0);
                        }
                    });
                }
                if (unreachable != null) {
                    log.info("{}: image server {} reachable again", image, from.describe());
                    unreachable = null;
                }
                buf.position(start);
                return;
            } catch (IOException e) {
                remoteRetries.incrementAndGet();
                if (unreachable == null) {
                    log.warn("{}: {}{} (retrying)", image, UNREACHABLE, e.getMessage());
                }
                unreachable = UNREACHABLE + e.getMessage();
                pause(backoff);
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
                try {
                    from.reconnect();
                } catch (IOException again) {
                    unreachable = UNREACHABLE + again.getMessage();
                }
            }
        }
    }

    private void writeLocal(long pos, ByteBuffer src) throws IOException {
        try {
            while (src.hasRemaining()) {
                pos += data.write(src, pos);
            }
        } catch (IOException e) {
            throw localFailure("writing", e);
        }
    }

    private void readLocal(long pos, ByteBuffer dst) throws IOException {
        try {
            while (dst.hasRemaining()) {
                int n = data.read(dst, pos);
                if (n < 0) {
                    throw new IOException("local image " + image + " ends at " + pos);
                }
                pos += n;
            }
        } catch (IOException e) {
            throw localFailure("reading", e);
        }
    }

    private IOException localFailure(String doing, IOException e) {
        String m = String.valueOf(e.getMessage());
        String what = m.contains("No space left on device") ? "local disk full" : "local I/O error";
        String message = what + " " + doing + " image " + image + ": " + m;
        if (failure == null) {
            failure = message;
            log.error("streaming disk {} failed: {}", image, message);
            complete.completeExceptionally(new IOException(message, e));
            synchronized (wakeup) {
                wakeup.notifyAll();
            }
        }
        return new IOException(message, e);
    }

    private void checkUsable() throws IOException {
        String f = failure;
        if (f != null) {
            throw new IOException(f);
        }
        if (closed) {
            throw new IOException("streaming disk " + image + " is closed");
        }
    }

    private void checkRange(long offset, int length) throws IOException {
        if (offset < 0 || offset > capacity || length > capacity - offset) {
            throw new IOException("access of " + length + " bytes at " + offset + " is outside disk " + image
                    + " of " + capacity + " bytes");
        }
    }

    private void noteGuestIo() {
        lastGuestIo = System.nanoTime();
    }

    /**
     * Makes durable every block marked so far: snapshot the bits, force the data they describe, then write and force
     * the bitmap. A bit is set only after its block's data was written, so the force covers every bit in the snapshot.
     */
    private void persist() throws IOException {
        synchronized (persistLock) {
            long[] words = new long[local.length()];
            for (int i = 0; i < words.length; i++) {
                words[i] = local.get(i);
            }
            try {
                data.force(false);
                bitmap.store(words);
            } catch (IOException e) {
                throw localFailure("persisting", e);
            }
        }
    }

    private void pause(long millis) throws InterruptedIOException {
        synchronized (wakeup) {
            if (closed) {
                return;
            }
            try {
                wakeup.wait(Math.max(1, millis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while streaming " + image);
            }
        }
    }

    // ---- the copier ----

    /**
     * One of the copier's threads: while the guest is idle, claim a batch of blocks no other thread holds, wait for
     * its turn under the rate limit, fetch it into this thread's buffer on the copier's connection, and install it
     * (the other threads' fetches are in flight meanwhile); every {@code persistInterval} hand a persist to the
     * persister. The thread that finds every block local persists and completes the disk.
     */
    private void copyLoop(ByteBuffer buf, byte[] scratch) {
        java.util.BitSet sentAsHoles = new java.util.BitSet(buf.capacity() / Holes.GRANULE);
        try {
            while (!closed && failure == null) {
                long idle = System.nanoTime() - lastGuestIo;
                long yield = options.guestYield().toNanos();
                if (idle < yield) {
                    pause(Math.max(1, (yield - idle) / 1_000_000));
                    continue;
                }
                CopyClaims.Claim c = claims.claim(options.copyBatchBlocks());
                if (c == null) {
                    if (localCount.get() == blocks) {
                        persist();
                        if (complete.complete(null)) {
                            log.info("streaming disk {} complete: {} bytes copied, {} over the wire, {} skipped as zeros",
                                    image, bytesCopied.get(), wireBytes(), holeBytes());
                        }
                        return;
                    }
                    pause(10);   // the last batches are in flight on other threads; the last mark wakes us
                    continue;
                }
                try {
                    long b = c.first();
                    long end = c.first() + c.count();
                    while (b < end && !closed && failure == null) {
                        if (zeroAtSource(b)) {
                            installZero(b, scratch);
                            b++;
                            continue;
                        }
                        long first = b;
                        while (b < end && !zeroAtSource(b)) {
                            b++;
                        }
                        long start = first * blockSize;
                        int len = (int) Math.min((b - first) * blockSize, capacity - start);
                        awaitTurn(len);
                        if (closed || failure != null) {
                            return;
                        }
                        buf.clear().limit(len);
                        fetchInto(copySource, start, buf, sentAsHoles);
                        install(first, (int) (b - first), buf, scratch, sentAsHoles);
                    }
                } finally {
                    claims.release(c);
                }
                long last = lastPersist.get();
                if (System.nanoTime() - last > options.persistInterval().toNanos()
                        && lastPersist.compareAndSet(last, System.nanoTime())
                        && persisting.compareAndSet(false, true)) {
                    persistInBackground();
                }
            }
        } catch (IOException e) {
            if (!closed && failure == null) {
                localFailure("copying", e);
            }
        } catch (RuntimeException e) {
            log.error("streaming disk {} copier failed", image, e);
            localFailure("copying", new IOException(e.toString(), e));
        }
    }

    /**
     * Under a rate limit, waits until the bytes the copier's threads took before are due, then takes {@code len}
     * more; without one, returns at once. A new limit ({@link #throttle}) starts the count anew.
     */
    private void awaitTurn(int len) throws InterruptedIOException {
        while (!closed && failure == null) {
            long wait;
            synchronized (pacing) {
                long rate = copyRateLimit;
                if (rate != pacedRate) {
                    pacedRate = rate;
                    paced = 0;
                    pacedSince = System.nanoTime();
                }
                if (rate <= 0) {
                    return;
                }
                wait = pacedSince + (long) (paced * 1e9 / rate) - System.nanoTime();
                if (wait <= 0) {
                    paced += len;
                    return;
                }
            }
            pause(Math.max(1, wait / 1_000_000));
        }
    }

    /**
     * A persist on the persister thread: the copier goes on writing meanwhile (those blocks are marked after their
     * data is written, so a later persist covers them). A failure stops the disk through {@link #localFailure}.
     */
    private void persistInBackground() {
        try {
            persister.execute(() -> {
                try {
                    if (!closed && failure == null) {
                        persist();
                    }
                } catch (IOException e) {
                    // persist() has recorded the failure; the copier stops on it
                } finally {
                    persisting.set(false);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            persisting.set(false);
        }
    }

    /** Stops the copier, persists what is local, and closes the files and the source. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
        source.close();   // a fetch in flight fails at once
        if (copySource != source) {
            copySource.close();
        }
        try {
            for (Thread t : copiers) {
                t.join(10_000);
            }
            persister.shutdown();
            persister.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (failure == null) {
                persist();
            }
        } finally {
            data.close();
            bitmap.close();
            if (!complete.isDone()) {
                complete.completeExceptionally(new IOException("streaming disk " + image + " closed before complete"));
            }
        }
    }
}
