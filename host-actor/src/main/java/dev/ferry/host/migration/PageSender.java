package dev.ferry.host.migration;

import dev.ferry.protocol.ProtocolVersions;
import dev.ferry.protocol.v1.PageAck;
import dev.ferry.protocol.v1.PageBatch;
import dev.ferry.protocol.v1.StreamKind;
import dev.ferry.vmm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.javadsl.Framing;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;

/**
 * The source side of the page streams: N TCP connections to the destination, each a Pekko stream that pulls batches
 * from one shared work queue (so a slow stream simply takes less), sends them framed, and counts the destination's
 * acknowledgements. Backpressure is TCP's: a stream reads guest memory only when its connection can take more.
 */
final class PageSender implements AutoCloseable {
    private static final Work END = new Work(null, 0, 0, 0);

    private record Work(long[] pages, int from, int count, int round) {}

    private final GuestMemory memory;
    private final BlockingQueue<Work> work = new LinkedBlockingQueue<>(1024);
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong zeroPages = new AtomicLong();
    private final AtomicLong compressedBatches = new AtomicLong();
    private final boolean lz4;
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final List<CompletionStage<Done>> streams = new ArrayList<>();
    private final int streamCount;
    private final Object progress = new Object();

    PageSender(ActorSystem<?> system, GuestMemory memory, String host, int port, int streamCount, String sender,
               String instanceId) {
        this(system, memory, host, port, streamCount, sender, instanceId, false);
    }

    /** With {@code lz4}, batches whose pages compress travel as LZ4 (the destination said it reads it). */
    PageSender(ActorSystem<?> system, GuestMemory memory, String host, int port, int streamCount, String sender,
               String instanceId, boolean lz4) {
        this.lz4 = lz4;
        this.memory = memory;
        this.streamCount = streamCount;
        byte[] header = ProtocolVersions.header(StreamKind.STREAM_KIND_PAGES, sender, instanceId).toByteArray();
        for (int s = 0; s < streamCount; s++) {
            AtomicLong seq = new AtomicLong();
            // Taking work blocks until there is some, so it happens in a map stage (after the previous batch has left)
            // in its own island on the blocking dispatcher; END ends the stream.
            BatchMaker maker = new BatchMaker(new AtomicLong());
            Source<ByteString, NotUsed> batches = Source.repeat(NotUsed.getInstance())
                    .map(x -> maker.next())
                    .takeWhile(b -> b != null)
                    .withAttributes(ActorAttributes.dispatcher("ferry.blocking-dispatcher"))
                    .async("ferry.blocking-dispatcher", 4);
            Source<ByteString, NotUsed> frames = Source.single(ByteString.fromArrayUnsafe(header)).concat(batches);
            CompletionStage<Done> done = frames
                    .via(Framing.simpleFramingProtocol(BatchCodec.MAX_FRAME).join(
                            Tcp.get(system).outgoingConnection(host, port)))
                    .runWith(Sink.foreach(this::onAck), system);
            done.whenComplete((d, e) -> {
                if (e != null) {
                    fail("page stream to " + host + ":" + port + " broke: " + e.getMessage());
                }
            });
            streams.add(done);
        }
    }

    /** Turns queued work into frames; returns null at the end of the migration (or when interrupted). */
    private final class BatchMaker {
        /** After a batch that did not compress, this many go raw before LZ4 is tried again (it costs CPU for nothing). */
        private static final int RAW_AFTER_MISS = 16;
        private final AtomicLong seq;
        private int rawLeft;

        BatchMaker(AtomicLong seq) {
            this.seq = seq;
        }

        ByteString next() {
            Work w;
            try {
                w = work.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            if (w == END) {
                return null;
            }
            boolean tryLz4 = lz4 && rawLeft == 0;
            rawLeft = Math.max(0, rawLeft - 1);
            var batch = BatchCodec.encode(memory, w.pages(), w.from(), w.count(), seq.getAndIncrement(), w.round(),
                    tryLz4);
            int dataPages = BatchCodec.dataPages(batch);
            zeroPages.addAndGet(w.count() - dataPages);
            if (batch.getCompression() == dev.ferry.protocol.v1.PageCompression.PAGE_COMPRESSION_LZ4) {
                compressedBatches.incrementAndGet();
            } else if (tryLz4 && dataPages > 0) {
                rawLeft = RAW_AFTER_MISS;
            }
            ByteString frame = frame(batch);
            bytes.addAndGet(frame.size() + 4L);
            return frame;
        }
    }

    /**
     * The batch's wire form without copying its page data again: its other fields, then the data field's tag and
     * length, then the data itself (protobuf reads fields in any order).
     */
    static ByteString frame(PageBatch batch) {
        byte[] head = batch.toBuilder().clearData().build().toByteArray();
        com.google.protobuf.ByteString data = batch.getData();
        if (data.isEmpty()) {
            return ByteString.fromArrayUnsafe(head);
        }
        byte[] tag = new byte[16];
        int tagLength;
        try {
            com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(tag);
            out.writeTag(PageBatch.DATA_FIELD_NUMBER, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag(data.size());
            tagLength = tag.length - out.spaceLeft();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        ByteString[] wrapped = new ByteString[1];
        try {
            com.google.protobuf.UnsafeByteOperations.unsafeWriteTo(data, new com.google.protobuf.ByteOutput() {
                @Override
                public void write(byte value) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public void write(byte[] value, int offset, int length) {
                    wrapped[0] = ByteString.fromArray(value, offset, length);
                }

                @Override
                public void writeLazy(byte[] value, int offset, int length) {
                    wrapped[0] = ByteString.fromArrayUnsafe(value, offset, length);
                }

                @Override
                public void write(java.nio.ByteBuffer value) {
                    wrapped[0] = ByteString.fromByteBuffer(value);
                }

                @Override
                public void writeLazy(java.nio.ByteBuffer value) {
                    wrapped[0] = ByteString.fromByteBuffer(value);
                }
            });
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return ByteString.fromArrayUnsafe(head).concat(ByteString.fromArrayUnsafe(tag, 0, tagLength)).concat(wrapped[0]);
    }

    private void onAck(ByteString frame) {
        try {
            PageAck ack = PageAck.parseFrom(frame.toArray());
            if (!ack.getOk()) {
                fail("destination refused batch " + ack.getSeq() + ": " + ack.getError());
            }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            fail("destination sent an unreadable acknowledgement");
        }
        acked.incrementAndGet();
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    private void fail(String why) {
        failure.compareAndSet(null, why);
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    /** Queues {@code pages} (ascending) in batches; returns the number of batches queued. */
    long send(long[] pages, int count, int round) throws InterruptedException {
        long n = 0;
        for (int from = 0; from < count; from += BatchCodec.MAX_PAGES) {
            work.put(new Work(pages, from, Math.min(BatchCodec.MAX_PAGES, count - from), round));
            queued.incrementAndGet();
            n++;
        }
        return n;
    }

    /** Waits until every queued batch is acknowledged; throws with the reason if a stream failed or time ran out. */
    void awaitAcknowledged(long timeoutMillis) throws InterruptedException, MigrationException {
        awaitBacklog(0, timeoutMillis);
    }

    /**
     * Waits until at most {@code batches} queued batches are not yet acknowledged; throws with the reason if a stream
     * failed or time ran out.
     */
    void awaitBacklog(long batches, long timeoutMillis) throws InterruptedException, MigrationException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        synchronized (progress) {
            while (queued.get() - acked.get() > batches) {
                if (failure.get() != null) {
                    throw new MigrationException(failure.get());
                }
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    throw new MigrationException("destination acknowledged " + acked.get() + " of " + queued.get()
                            + " batches within " + timeoutMillis + " ms");
                }
                progress.wait(Math.min(left, 100));
            }
        }
        if (failure.get() != null) {
            throw new MigrationException(failure.get());
        }
    }

    long batches() {
        return queued.get();
    }

    long bytes() {
        return bytes.get();
    }

    long zeroPages() {
        return zeroPages.get();
    }

    long compressedBatches() {
        return compressedBatches.get();
    }

    String failure() {
        return failure.get();
    }

    @Override
    public void close() {
        for (int i = 0; i < streamCount; i++) {
            work.offer(END);
        }
        for (CompletionStage<Done> s : streams) {
            try {
                s.toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // the stream already reported its failure, or the destination went away
            }
        }
    }
}
