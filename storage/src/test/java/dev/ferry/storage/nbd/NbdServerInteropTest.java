package dev.ferry.storage.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.storage.testing.Command;
import dev.ferry.storage.testing.ExternalTool;
import dev.ferry.storage.testing.Images;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our server against nbdinfo and nbdcopy (Debian's libnbd-bin), clients written independently of ours. */
class NbdServerInteropTest {
    private static final long BIG = 64L << 20;
    private static final long SMALL = 3 * 512 + 1000;
    private static final long SPARSE = 32L << 20;
    /** The data of sparse.raw, offset and length pairs; the rest is holes. */
    private static final long[] DATA = {0, 4096, 3L << 20, 2L << 20, (20L << 20) + 65536, 65536};
    @TempDir
    static Path dir;
    private static Path images;
    private static NbdServer server;

    @BeforeAll
    static void serve() throws Exception {
        images = Files.createDirectories(dir.resolve("images"));
        Images.random(images.resolve("big.raw"), BIG, 11);
        Images.random(images.resolve("small.img"), SMALL, 12);
        Images.holey(images.resolve("sparse.raw"), SPARSE, 13, DATA);
        server = NbdServer.start(images);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static String uri(String export) {
        return "nbd://127.0.0.1:" + server.port() + "/" + export;
    }

    @Test
    void nbdinfoReportsTheSizeOfEachExport() throws Exception {
        Path nbdinfo = ExternalTool.require("nbdinfo", "libnbd-bin");
        for (String name : List.of("big.raw", "small.img")) {
            Command.Result r = Command.run(List.of(nbdinfo.toString(), "--size", uri(name)), 30);
            assertEquals(0, r.exitCode(), r.output());
            assertEquals(Files.size(images.resolve(name)), Long.parseLong(r.output().trim()), r.output());
        }
    }

    @Test
    void nbdinfoSeesAReadOnlyExportWithItsBlockSizes() throws Exception {
        Path nbdinfo = ExternalTool.require("nbdinfo", "libnbd-bin");
        Command.Result r = Command.run(List.of(nbdinfo.toString(), "--json", uri("big.raw")), 30);
        assertEquals(0, r.exitCode(), r.output());
        String json = r.output().replaceAll("\\s", "");
        assertTrue(json.contains("\"is_read_only\":true"), r.output());
        assertTrue(json.contains("\"export-size\":" + BIG), r.output());
        assertTrue(json.contains("\"block_size_maximum\":" + Nbd.MAX_PAYLOAD), r.output());
    }

    @Test
    void nbdinfoListsEveryExport() throws Exception {
        Path nbdinfo = ExternalTool.require("nbdinfo", "libnbd-bin");
        Command.Result r = Command.run(List.of(nbdinfo.toString(), "--list", "--json",
                "nbd://127.0.0.1:" + server.port()), 30);
        assertEquals(0, r.exitCode(), r.output());
        String json = r.output().replaceAll("\\s", "");
        assertTrue(json.contains("\"export-name\":\"big.raw\""), r.output());
        assertTrue(json.contains("\"export-name\":\"small.img\""), r.output());
        assertTrue(json.contains("\"export-name\":\"sparse.raw\""), r.output());
        assertTrue(json.contains("\"export-size\":" + SMALL), r.output());
    }

    @Test
    void ourClientReadsTheSameBytesNbdcopyDoes() throws Exception {
        try (NbdClient c = NbdClient.connect("127.0.0.1", server.port(), "big.raw")) {
            java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(16 << 20);
            long t0 = System.nanoTime();
            for (long off = 0; off < BIG; off += buf.capacity()) {
                buf.clear();
                c.read(off, buf);
                d.update(buf.array(), 0, buf.capacity());
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("NBD read by our client from our server: %d MiB in %.3f s = %.0f MiB/s%n", BIG >> 20,
                    seconds, (BIG >> 20) / seconds);
            assertEquals(Images.sha256(images.resolve("big.raw")), java.util.HexFormat.of().formatHex(d.digest()));
        }
    }

    @Test
    void nbdcopyCopiesAnExportByteForByte() throws Exception {
        Path nbdcopy = ExternalTool.require("nbdcopy", "libnbd-bin");
        for (String name : List.of("big.raw", "small.img")) {
            Path copy = dir.resolve("copy-" + name);
            long served = server.bytesServed();
            long t0 = System.nanoTime();
            Command.Result r = Command.run(List.of(nbdcopy.toString(), uri(name), copy.toString()), 60);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(0, r.exitCode(), r.output());
            assertEquals(Images.sha256(images.resolve(name)), Images.sha256(copy), name);
            assertTrue(server.bytesServed() - served >= Files.size(images.resolve(name)),
                    "the server counts what it sends");
            if (name.equals("big.raw")) {
                System.out.printf("nbdcopy from our server: %d MiB in %.3f s = %.0f MiB/s (process start included)%n",
                        BIG >> 20, seconds, (BIG >> 20) / seconds);
            }
        }
    }

    @Test
    void nbdinfoMapsTheHolesOfASparseExport() throws Exception {
        Path nbdinfo = ExternalTool.require("nbdinfo", "libnbd-bin");
        Command.Result r = Command.run(List.of(nbdinfo.toString(), "--map", uri("sparse.raw")), 30);
        assertEquals(0, r.exitCode(), r.output());
        List<String> expected = new java.util.ArrayList<>();
        long at = 0;
        for (int i = 0; i < DATA.length; i += 2) {
            if (DATA[i] > at) {
                expected.add(at + " " + (DATA[i] - at) + " 3");
            }
            expected.add(DATA[i] + " " + DATA[i + 1] + " 0");
            at = DATA[i] + DATA[i + 1];
        }
        expected.add(at + " " + (SPARSE - at) + " 3");
        List<String> got = r.output().lines().map(String::trim).filter(l -> !l.isEmpty())
                .map(l -> String.join(" ", java.util.Arrays.asList(l.split("\\s+")).subList(0, 3))).toList();
        assertEquals(expected, got, r.output());
        assertTrue(r.output().contains("hole,zero") && r.output().contains("data"), r.output());
    }

    @Test
    void nbdcopyCopiesASparseExportWithOnlyItsDataOnTheWire() throws Exception {
        Path nbdcopy = ExternalTool.require("nbdcopy", "libnbd-bin");
        Path copy = dir.resolve("copy-sparse.raw");
        long served = server.bytesServed();
        Command.Result r = Command.run(List.of(nbdcopy.toString(), uri("sparse.raw"), copy.toString()), 60);
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(Images.sha256(images.resolve("sparse.raw")), Images.sha256(copy));
        long data = 0;
        for (int i = 1; i < DATA.length; i += 2) {
            data += DATA[i];
        }
        assertEquals(data, server.bytesServed() - served, "nbdcopy skipped the holes base:allocation reported");
    }
}
