package dev.ferry.storage.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * One request a client has sent and not yet had its whole reply to. A structured reply arrives in chunks, in any
 * order: the content of a READ is checked to lie within the request and to overlap no earlier content, and the reply
 * is whole only when its content covers every byte; a block status collects the descriptors of the one context the
 * client selected; the first error chunk fails the request once the last chunk has come.
 */
final class InFlight {
    final int type;
    final long offset;
    final long length;
    /** Where a READ's data goes (position 0 of it is {@link #offset}); null for other commands. */
    final ByteBuffer dst;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    /** Content chunks received so far, by start: their ends (only for a READ answered in chunks). */
    private TreeMap<Long, Long> content;
    private long covered;
    private NbdWire.ChunkError error;
    private final List<NbdExtent> extents = new ArrayList<>();

    /** Where a READ's holes are reported instead of being zero-filled; null: filled. */
    final HoleSink holes;

    InFlight(int type, long offset, long length, ByteBuffer dst, HoleSink holes) {
        this.type = type;
        this.offset = offset;
        this.length = length;
        this.dst = dst;
        this.holes = holes;
    }

    String describe() {
        return switch (type) {
            case Nbd.CMD_READ -> "READ of " + length + " bytes at " + offset;
            case Nbd.CMD_BLOCK_STATUS -> "BLOCK_STATUS of " + length + " bytes at " + offset;
            case Nbd.CMD_FLUSH -> "FLUSH";
            default -> "command " + type;
        };
    }

    /**
     * Records a content chunk of {@code n} bytes at {@code at}; returns where in {@link #dst} it goes. Refuses one
     * outside the request or overlapping earlier content.
     */
    int content(long at, long n, String what) throws NbdProtocolException {
        if (type != Nbd.CMD_READ) {
            throw new NbdProtocolException(what + " in the reply to " + describe());
        }
        if (n <= 0 || at < offset || at > offset + length || n > offset + length - at) {
            throw new NbdProtocolException(what + " of " + n + " bytes at " + at + " lies outside " + describe());
        }
        if (content == null) {
            content = new TreeMap<>();
        }
        Map.Entry<Long, Long> before = content.floorEntry(at);
        Map.Entry<Long, Long> after = content.ceilingEntry(at);
        if ((before != null && before.getValue() > at) || (after != null && after.getKey() < at + n)) {
            throw new NbdProtocolException(what + " of " + n + " bytes at " + at + " overlaps earlier content of "
                    + describe());
        }
        content.put(at, at + n);
        covered += n;
        return (int) (at - offset);
    }

    /** Records an error chunk; the first one is what the request fails with. */
    void error(NbdWire.ChunkError e) {
        if (error == null) {
            error = e;
        }
    }

    /** Records a block status chunk of the selected context: its descriptors from {@link #offset} on. */
    void status(NbdWire.BlockStatus s) throws NbdProtocolException {
        if (type != Nbd.CMD_BLOCK_STATUS) {
            throw new NbdProtocolException("NBD_REPLY_TYPE_BLOCK_STATUS in the reply to " + describe());
        }
        if (!extents.isEmpty()) {
            throw new NbdProtocolException("two NBD_REPLY_TYPE_BLOCK_STATUS chunks for one context in the reply to "
                    + describe());
        }
        long at = offset;
        long end = offset + length;
        for (NbdWire.Descriptor d : s.descriptors()) {
            if (at >= end) {
                break;   // the last may reach past the request; what lies past it is not asked for
            }
            extents.add(new NbdExtent(at, Math.min(d.length(), end - at), d.flags()));
            at += d.length();
        }
    }

    /** The extents of a finished block status, from {@link #offset}, none past the request. */
    List<NbdExtent> extents() {
        return extents;
    }

    /** Ends the reply at its last chunk: fails with the error it carried, or checks that it is whole. */
    void finish() throws NbdProtocolException {
        if (error != null) {
            done.completeExceptionally(new NbdCommandException(describe(), error.error(), error.message()));
            return;
        }
        if (type == Nbd.CMD_READ && covered != length) {
            throw new NbdProtocolException("the reply to " + describe() + " ended with " + covered
                    + " bytes of content");
        }
        if (type == Nbd.CMD_BLOCK_STATUS && extents.isEmpty()) {
            throw new NbdProtocolException("the reply to " + describe() + " ended without a status of base:allocation");
        }
        if (dst != null) {
            dst.position(dst.limit());
        }
        done.complete(null);
    }
}
