package dev.ferry.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A QMP client on a QEMU unix socket ({@code -qmp unix:PATH,server=on,wait=off}): reads the greeting, enters command
 * mode, then runs one command at a time, skipping asynchronous events. The same protocol as
 * {@code benchmarks/qemu/qmp.py}.
 */
final class Qmp implements AutoCloseable {
    private final SocketChannel channel;
    private final BufferedReader in;
    private final Writer out;
    private final Path socket;

    private Qmp(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.out = new OutputStreamWriter(Channels.newOutputStream(channel), StandardCharsets.UTF_8);
    }

    /** Connects to {@code socket}, retrying until QEMU has created it and answers, for at most {@code limit}. */
    static Qmp connect(Path socket, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            if (Files.exists(socket)) {
                SocketChannel ch = null;
                try {
                    ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    Qmp q = new Qmp(socket, ch);
                    String greeting = q.in.readLine();
                    if (greeting == null || !greeting.contains("\"QMP\"")) {
                        throw new IOException("no QMP greeting (got " + greeting + ")");
                    }
                    q.execute("qmp_capabilities", Map.of());
                    return q;
                } catch (IOException e) {
                    last = e;
                    closeQuietly(ch);
                }
            }
            Threads.sleep(20);
        }
        throw new IllegalStateException("no QMP on " + socket + " within " + limit
                + (last == null ? " (the socket never appeared)" : ": " + last.getMessage()));
    }

    /** Runs {@code command} with {@code args}; returns its {@code "return"} value, or fails with QEMU's error. */
    Object execute(String command, Map<String, Object> args) {
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("execute", command);
        if (!args.isEmpty()) {
            msg.put("arguments", args);
        }
        StringBuilder json = new StringBuilder();
        JsonReport.write(json, msg);
        try {
            out.write(json.append('\n').toString());
            out.flush();
            while (true) {
                String line = in.readLine();
                if (line == null) {
                    throw new IllegalStateException("QEMU closed " + socket + " before answering " + command);
                }
                Map<String, Object> reply = JsonReader.object(line);
                if (reply.containsKey("event")) {
                    continue;
                }
                if (reply.get("error") instanceof Map<?, ?> error) {
                    throw new IllegalStateException("QMP " + command + " " + args + " on " + socket + ": "
                            + error.get("desc"));
                }
                return reply.get("return");
            }
        } catch (IOException e) {
            throw new IllegalStateException("QMP " + command + " on " + socket + ": " + e.getMessage(), e);
        }
    }

    /** {@link #execute} for a command that returns an object. */
    @SuppressWarnings("unchecked")
    Map<String, Object> query(String command) {
        Object r = execute(command, Map.of());
        if (!(r instanceof Map)) {
            throw new IllegalStateException("QMP " + command + " on " + socket + " returned " + r + ", not an object");
        }
        return (Map<String, Object>) r;
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the socket is going away either way
            }
        }
    }
}
