package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint with {@code ferry run --checkpoint-to}, restore with {@code ferry restore} in another JVM, inspect, refuse bad files. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@RequiresKvmHere
class CheckpointCommandsTest {
    private static final Pattern SEQ = Pattern.compile("heartbeat seq=(\\d+) ");

    @TempDir
    static Path dir;
    private Path checkpoint;
    private long lastSeqBefore;

    @BeforeAll
    void checkpointARunningHeartbeat() {
        checkpoint = dir.resolve("hb.ferry");
        CliRun r = CliRun.of("run", "--guest", "heartbeat", "--memory", "512M", "--seconds", "1.2",
                "--checkpoint-to", checkpoint.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Files.isRegularFile(checkpoint));
        lastSeqBefore = seqs(r.out()).get(seqs(r.out()).size() - 1);
    }

    private static List<Long> seqs(String out) {
        List<Long> s = new ArrayList<>();
        Matcher m = SEQ.matcher(out);
        while (m.find()) {
            s.add(Long.parseLong(m.group(1)));
        }
        return s;
    }

    private static ProcessResult ferryInNewJvm(String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                FerryCli.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        try {
            var out = p.getInputStream();
            var err = p.getErrorStream();
            byte[] o = out.readAllBytes();
            byte[] e = err.readAllBytes();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            return new ProcessResult(p.exitValue(), new String(o, StandardCharsets.UTF_8), new String(e, StandardCharsets.UTF_8));
        } finally {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    record ProcessResult(int code, String out, String err) {}

    @Test
    void restoreInAnotherProcessContinuesTheCount() throws Exception {
        ProcessResult r = ferryInNewJvm("restore", checkpoint.toString(), "--seconds", "1");
        assertEquals(0, r.code(), r.err());
        List<Long> after = seqs(r.out());
        assertFalse(after.isEmpty(), r.out() + r.err());
        assertEquals(lastSeqBefore + 1, after.get(0), "first beat after restore follows the last one before");
    }

    @Test
    void checkpointInfoPrintsVersionSectionsSizesAndParent() {
        CliRun r = CliRun.of("checkpoint-info", checkpoint.toString(), "--devices");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("version:     1.0"), r.out());
        assertTrue(r.out().contains("parent:      none (full)"), r.out());
        assertTrue(r.out().contains("MEMORY") && r.out().contains("bytes"), r.out());
        assertTrue(r.out().contains("uart0") && r.out().contains("READ_BACK"), r.out());
    }

    private Path variant(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private void assertRefused(Path file, String expected) {
        for (String cmd : List.of("restore", "checkpoint-info")) {
            CliRun r = CliRun.of(cmd, file.toString());
            assertEquals(FerryCli.USAGE, r.exitCode(), cmd + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.err().contains(expected), cmd + " said: " + r.err());
            assertEquals("", r.out(), "nothing restored or printed");
        }
    }

    @Test
    void refusesTruncatedBitFlippedWrongVersionAndForeignFiles() throws Exception {
        byte[] good = Files.readAllBytes(checkpoint);
        assertRefused(variant("cut.ferry", java.util.Arrays.copyOf(good, good.length / 2)), "cut.ferry");
        byte[] flipped = good.clone();
        flipped[good.length / 3] ^= 0x10;
        assertRefused(variant("flip.ferry", flipped), "flip.ferry");
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1};
        assertRefused(variant("picture.ferry", png), "picture.ferry");
        assertRefused(dir.resolve("missing.ferry"), "does not exist");
    }
}
