package dev.ferry.storage.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** Where a streaming disk's image comes from: a fixed size, random reads, and a way to connect anew after a loss. */
public interface RemoteImage extends AutoCloseable {
    /** What it is, for messages and the bitmap's header: {@code nbd://127.0.0.1:10809/disk.raw}. */
    String describe();

    long size();

    /** Fills {@code dst} from {@code offset}; throws if the source cannot be reached now. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * As {@link #read(long, ByteBuffer)}, but parts the source sends as holes may be reported to {@code holes} (index
     * from {@code dst}'s position) and left unwritten in {@code dst}. By default everything is read.
     */
    default void read(long offset, ByteBuffer dst, dev.ferry.storage.nbd.HoleSink holes) throws IOException {
        read(offset, dst);
    }

    /** A run of the image; {@code zero} when the source says it reads as zeros (else its content is unknown). */
    record Extent(long offset, long length, boolean zero) {}

    /**
     * What the source can tell of {@code [offset, offset + length)} without reading it: extents in order from
     * {@code offset}, none past the range, covering at least its first byte. By default one extent of unknown content.
     */
    default List<Extent> extents(long offset, long length) throws IOException {
        return List.of(new Extent(offset, length, false));
    }

    /** Image bytes whose data has crossed the network from the source so far. */
    long bytesReceived();

    /** Image bytes of reads the source answered as zeros without sending them. */
    long zeroBytesReceived();

    /**
     * A second, independent connection to the same image (for the background copy, so its requests never queue
     * ahead of the guest's on one connection), or this same object where there is no such thing; the caller closes
     * what it gets unless it is this.
     */
    default RemoteImage openAnother() throws IOException {
        return this;
    }

    /** Drops the connection (if any) and makes a new one; throws if the source is still unreachable. */
    void reconnect() throws IOException;

    @Override
    void close();
}
