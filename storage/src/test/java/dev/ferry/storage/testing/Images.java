package dev.ferry.storage.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** Disk images for tests: pseudo-random contents from a seed, their SHA-256, and free loopback ports. */
public final class Images {
    private Images() {}

    /** Writes {@code size} pseudo-random bytes (from {@code seed}) to {@code file}. */
    public static Path random(Path file, long size, long seed) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        SplittableRandom r = new SplittableRandom(seed);
        ByteBuffer b = ByteBuffer.allocate(1 << 20);
        try (FileChannel f = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long done = 0;
            while (done < size) {
                b.clear();
                int n = (int) Math.min(b.capacity(), size - done);
                while (b.position() + 8 <= n) {
                    b.putLong(r.nextLong());
                }
                while (b.position() < n) {
                    b.put((byte) r.nextInt());
                }
                b.flip();
                while (b.hasRemaining()) {
                    done += f.write(b, done);
                }
            }
        }
        return file;
    }

    /**
     * A sparse image of {@code size} bytes: each {@code period}-byte stretch starts with {@code data} pseudo-random
     * bytes (from {@code seed}), the rest is a hole.
     */
    public static Path sparse(Path file, long size, int period, int data, long seed) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        SplittableRandom r = new SplittableRandom(seed);
        try (FileChannel f = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] b = new byte[data];
            for (long pos = 0; pos < size; pos += period) {
                r.nextBytes(b);
                ByteBuffer bb = ByteBuffer.wrap(b, 0, (int) Math.min(data, size - pos));
                long p = pos;
                while (bb.hasRemaining()) {
                    p += f.write(bb, p);
                }
            }
            if (f.size() < size) {
                f.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        return file;
    }

    /**
     * A sparse image of {@code size} bytes with pseudo-random data (from {@code seed}) only in {@code ranges}, given as
     * offset, length pairs in order; everything else, the end included, is a hole (the file is extended, not written).
     */
    public static Path holey(Path file, long size, long seed, long... ranges) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        SplittableRandom r = new SplittableRandom(seed);
        try (FileChannel f = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (int i = 0; i < ranges.length; i += 2) {
                byte[] b = new byte[(int) ranges[i + 1]];
                r.nextBytes(b);
                ByteBuffer bb = ByteBuffer.wrap(b);
                long p = ranges[i];
                while (bb.hasRemaining()) {
                    p += f.write(bb, p);
                }
            }
        }
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
        return file;
    }

    /** The bytes the file system has allocated to {@code file} ({@code stat}'s blocks). */
    public static long allocated(Path file) throws IOException {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        try {
            if (p.waitFor() != 0) {
                throw new IOException("stat " + file + ": " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("stat " + file);
        }
        String[] f = out.split(" ");
        return Long.parseLong(f[0]) * Long.parseLong(f[1]);
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A TCP port on 127.0.0.1 that was free a moment ago. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
