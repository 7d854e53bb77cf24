package dev.ferry.storage.stream;

import dev.ferry.storage.nbd.NbdClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

/** One export of an NBD server as a {@link RemoteImage}; {@link #reconnect()} makes a new {@link NbdClient}. */
public final class NbdRemoteImage implements RemoteImage {
    private final String host;
    private final int port;
    private final String export;
    private final long size;
    private volatile NbdClient client;
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
        NbdClient c = client;
        if (c == null || !c.isOpen()) {
            reconnect();
            c = client;
        }
        c.read(offset, dst);
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
            old.close();
        }
        NbdClient c = open(host, port, export);
        if (c.size() != size) {
            c.close();
            throw new IOException(describe() + " is now " + c.size() + " bytes, was " + size + ": not the same image");
        }
        client = c;
    }

    /** Forgets the current connection so the next read reconnects (for a read that failed on it). */
    void dropConnection() {
        NbdClient c = client;
        client = null;
        if (c != null) {
            c.close();
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        NbdClient c = client;
        client = null;
        if (c != null) {
            c.close();
        }
    }
}
