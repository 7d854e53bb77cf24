package dev.ferry.bench;

import dev.ferry.storage.nbd.NbdServer;
import java.io.IOException;
import java.nio.file.Path;

/** The deploy bench's NBD server: where it listens, and the link between it and this process. */
interface ImageServer extends AutoCloseable {
    String host();

    int port();

    /** The link's cap each way, or null when it is not shaped. */
    LinkRate rate();

    /** The link, in words (for the goals and the notes). */
    String link();

    /** CPU time (ns) the server has used outside this process so far: 0 when it runs in this one. */
    long serverCpuNanos();

    @Override
    void close() throws Exception;

    /** An {@link NbdServer} in this process on 127.0.0.1: the link is loopback, as fast as memory. */
    static ImageServer inProcess(Path images) throws IOException {
        NbdServer server = NbdServer.start(images);
        return new ImageServer() {
            @Override
            public String host() {
                return server.host();
            }

            @Override
            public int port() {
                return server.port();
            }

            @Override
            public LinkRate rate() {
                return null;
            }

            @Override
            public String link() {
                return "loopback within this process (unshaped)";
            }

            @Override
            public long serverCpuNanos() {
                return 0;
            }

            @Override
            public void close() throws IOException {
                server.close();
            }
        };
    }
}
