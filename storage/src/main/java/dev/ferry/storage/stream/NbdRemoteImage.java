package dev.ferry.storage.stream;

import dev.ferry.storage.nbd.NbdClient;
import dev.ferry.storage.nbd.NbdExtent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One export of an NBD server as a {@link RemoteImage}; {@link #reconnect()} makes a new {@link NbdClient}. Its
 * extents are the server's {@code base:allocation} block status, where the server offers it.
 */
public final class NbdRemoteImage implements RemoteImage {
    private final String host;
    private final int port;
    private final String export;
    private final long size;
    private volatile NbdClient client;
    /** What the connections replaced so far received. */
    private final AtomicLong retiredData = new AtomicLong();
    private final AtomicLong retiredZeros = new AtomicLong();
    private volatile boolean closed;

    private NbdRemoteImage(String host, int port, String export, NbdClient client) {
        this.host = host;
        this.port = port;
        this.export = export;
        this.client = client;
        this.size = client.size();
    }

    /** Connects now (the image's size is learned from the server). */
    public static NbdRemoteImage connect(String host, int port, String export) throws IOException {
        return new NbdRemoteImage(host, port, export, open(host, port, export));
    }

    private static NbdClient open(String host, int port, String export) throws IOException {
        return NbdClient.connect(host, port, export, Duration.ofSeconds(2), Duration.ofSeconds(20));
    }

    @Override
    public String describe() {
        return "nbd://" + host + ":" + port + "/" + export;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        connected().read(offset, dst);
    }

    @Override
    public void read(long offset, ByteBuffer dst, dev.ferry.storage.nbd.HoleSink holes) throws IOException {
        connected().read(offset, dst, holes);
    }

    @Override
    public List<Extent> extents(long offset, long length) throws IOException {
        List<Extent> out = new ArrayList<>();
        for (NbdExtent e : connected().blockStatus(offset, length)) {
            out.add(new Extent(e.offset(), e.length(), e.zero()));
        }
        return out;
    }

    @Override
    public long bytesReceived() {
        NbdClient c = client;
        return retiredData.get() + (c == null ? 0 : c.dataBytesReceived());
    }

    @Override
    public long zeroBytesReceived() {
        NbdClient c = client;
        return retiredZeros.get() + (c == null ? 0 : c.zeroBytesReceived());
    }

    private NbdClient connected() throws IOException {
        NbdClient c = client;
        if (c == null || !c.isOpen()) {
            reconnect();
            c = client;
        }
        return c;
    }

    /** Closes a connection being replaced, keeping what it received in the counts. */
    private void retire(NbdClient c) {
        c.close();
        retiredData.addAndGet(c.dataBytesReceived());
        retiredZeros.addAndGet(c.zeroBytesReceived());
    }

    /** A new connection to the same export; refused if the export's size changed meanwhile. */
    @Override
    public NbdRemoteImage openAnother() throws IOException {
        NbdRemoteImage other = connect(host, port, export);
        if (other.size != size) {
            other.close();
            throw new IOException(describe() + " is now " + other.size + " bytes, was " + size
                    + ": not the same image");
        }
        return other;
    }

    @Override
    public synchronized void reconnect() throws IOException {
        if (closed) {
            throw new IOException(describe() + ": closed");
        }
        NbdClient old = client;
        if (old != null && old.isOpen()) {
            return;   // another thread reconnected meanwhile
        }
        client = null;
        if (old != null) {
            retire(old);
        }
        NbdClient c = open(host, port, export);
        if (c.size() != size) {
            c.close();
            throw new IOException(describe() + " is now " + c.size() + " bytes, was " + size + ": not the same image");
        }
        client = c;
    }

    /** Forgets the current connection so the next read reconnects (for a read that failed on it). */
    synchronized void dropConnection() {
        NbdClient c = client;
        client = null;
        if (c != null) {
            retire(c);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        NbdClient c = client;
        client = null;
        if (c != null) {
            retire(c);
        }
    }
}
