package dev.ferry.host.migration;

import dev.ferry.protocol.ProtocolVersions;
import dev.ferry.protocol.v1.PageAck;
import dev.ferry.protocol.v1.PageBatch;
import dev.ferry.protocol.v1.StreamHeader;
import dev.ferry.protocol.v1.StreamKind;
import dev.ferry.vmm.memory.GuestMemory;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;

/**
 * The destination side of the page streams: a TCP server on the node's own address that accepts the source's
 * connections, checks each stream's header, verifies every batch before writing it into guest RAM, and acknowledges
 * each one. A bad batch is refused (the source aborts); a broken stream is reported.
 */
final class PageReceiver implements AutoCloseable {
    private final GuestMemory memory;
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong pages = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final Tcp.ServerBinding binding;
    private final Object progress = new Object();
    private final java.util.concurrent.locks.ReadWriteLock memoryLock = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private boolean closed;
    private volatile long lastActivity = System.currentTimeMillis();

    PageReceiver(ActorSystem<?> system, GuestMemory memory, String host) throws MigrationException {
        this.memory = memory;
        CompletionStage<Tcp.ServerBinding> bound = Tcp.get(system).bind(host, 0)
                .to(Sink.foreach(conn -> conn.handleWith(
                        connectionFlow()
                                .watchTermination((mat, done) -> {
                                    done.whenComplete((d, e) -> streamEnded(e));
                                    return mat;
                                }), system)))
                .run(system);
        try {
            this.binding = bound.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new MigrationException("cannot listen for page streams on " + host + ": " + e.getMessage());
        }
    }

    int port() {
        return binding.localAddress().getPort();
    }

    /** The address the source connects to. */
    String host() {
        return binding.localAddress().getHostString();
    }

    /**
     * One connection: frames cut from the received bytes straight into one reused buffer, each checked and applied
     * (or refused) before the next, and an acknowledgement for each batch, on the blocking dispatcher.
     */
    private Flow<ByteString, ByteString, ?> connectionFlow() {
        FrameAssembler frames = new FrameAssembler(BatchCodec.MAX_FRAME);
        boolean[] headerSeen = {false};
        String[] refused = {null};
        return Flow.of(ByteString.class).<ByteString>mapConcat(chunk -> {
            lastActivity = System.currentTimeMillis();
            java.util.List<ByteString> replies = new java.util.ArrayList<>(2);
            frames.accept(chunk, f -> {
                ByteString reply = onFrame(f, headerSeen, refused);
                if (!reply.isEmpty()) {
                    replies.add(reply);
                }
            });
            return replies;
        }).withAttributes(ActorAttributes.dispatcher("ferry.blocking-dispatcher"))
                .async("ferry.blocking-dispatcher", 4);
    }

    /** The answer to one frame: nothing for an accepted header, else an acknowledgement or a refusal. */
    private ByteString onFrame(FrameAssembler.Frame frame, boolean[] headerSeen, String[] refused) {
        if (!headerSeen[0]) {
            headerSeen[0] = true;
            String refusal;
            try {
                StreamHeader header = StreamHeader.parseFrom(com.google.protobuf.CodedInputStream.newInstance(
                        frame.buffer(), 0, frame.length()));
                refusal = ProtocolVersions.refusalReason(header);
                if (refusal == null && header.getKind() != StreamKind.STREAM_KIND_PAGES) {
                    refusal = "stream header names a " + header.getKind() + " stream; this port takes page streams";
                }
            } catch (java.io.IOException e) {
                refusal = "the first frame is not a stream header";
            }
            if (refusal != null) {
                refused[0] = refusal;
                fail(refusal);
                return ack(PageAck.newBuilder().setSeq(Long.MAX_VALUE).setOk(false).setError(refusal).build());
            }
            return ByteString.emptyByteString();
        }
        if (refused[0] != null) {
            // nothing on a refused stream reaches guest RAM
            return ack(PageAck.newBuilder().setSeq(Long.MAX_VALUE).setOk(false)
                    .setError("stream refused: " + refused[0]).build());
        }
        PageAck.Builder a = PageAck.newBuilder();
        try {
            // the batch's page data aliases the assembler's buffer, which holds it until this returns
            com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(frame.buffer(),
                    0, frame.length());
            in.enableAliasing(true);
            PageBatch batch = PageBatch.parseFrom(in);
            a.setSeq(batch.getSeq());
            memoryLock.readLock().lock();
            try {
                if (closed) {
                    throw new IllegalArgumentException("the destination discarded this migration");
                }
                pages.addAndGet(BatchCodec.verifyAndApply(batch, memory));
            } finally {
                memoryLock.readLock().unlock();
            }
            a.setOk(true);
            batches.incrementAndGet();
        } catch (java.io.IOException e) {
            fail("an unreadable page batch arrived");
            a.setOk(false).setError("unreadable page batch");
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            a.setOk(false).setError(e.getMessage());
        }
        synchronized (progress) {
            progress.notifyAll();
        }
        return ack(a.build());
    }

    /** A page stream ended: fine once this side stopped listening (final state taken), a failure before. */
    private void streamEnded(Throwable error) {
        memoryLock.readLock().lock();
        try {
            if (!closed) {
                fail("a page stream from the source ended before the final state"
                        + (error == null ? "" : ": " + error.getMessage()));
            }
        } finally {
            memoryLock.readLock().unlock();
        }
    }

    /** An acknowledgement framed as the source reads it: 4 bytes big-endian length, then the message. */
    private static ByteString ack(PageAck a) {
        byte[] body = a.toByteArray();
        byte[] framed = new byte[4 + body.length];
        java.nio.ByteBuffer.wrap(framed).putInt(body.length).put(body);
        return ByteString.fromArrayUnsafe(framed);
    }

    private void fail(String why) {
        failure.compareAndSet(null, why);
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    /** Waits until {@code expected} batches were applied; throws if one was refused or nothing came for a while. */
    void awaitBatches(long expected, long idleTimeoutMillis) throws InterruptedException, MigrationException {
        synchronized (progress) {
            while (batches.get() < expected) {
                if (failure.get() != null) {
                    throw new MigrationException(failure.get());
                }
                if (System.currentTimeMillis() - lastActivity > idleTimeoutMillis) {
                    throw new MigrationException("received " + batches.get() + " of " + expected
                            + " page batches; none for " + idleTimeoutMillis + " ms");
                }
                progress.wait(50);
            }
        }
        if (failure.get() != null) {
            throw new MigrationException(failure.get());
        }
    }

    long batches() {
        return batches.get();
    }

    long pages() {
        return pages.get();
    }

    String failure() {
        return failure.get();
    }

    long millisSinceActivity() {
        return System.currentTimeMillis() - lastActivity;
    }

    /** Stops writing into guest RAM (before the caller frees it) and stops listening. */
    @Override
    public void close() {
        memoryLock.writeLock().lock();
        try {
            closed = true;
        } finally {
            memoryLock.writeLock().unlock();
        }
        try {
            binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // already gone
        }
    }
}
