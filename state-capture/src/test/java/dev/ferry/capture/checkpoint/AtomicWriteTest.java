package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.vmm.memory.GuestMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AtomicWriteTest {
    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError(String.join(" ", command) + " did not finish");
            }
            return p.exitValue();
        } finally {
            p.destroyForcibly();
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aWriteThatRunsOutOfSpaceLeavesThePreviousCheckpointAndNoTemporaryFile() throws Exception {
        Path mnt = Files.createTempDirectory("ferry-full-disk");
        try {
            assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt.toString()) == 0,
                    "mounting a 1 MiB tmpfs needs root");
            try {
                Path target = mnt.resolve("ck.ferry");
                try (GuestMemory small = Fixtures.guest(1, 20)) {
                    Fixtures.writeFull(target, "ck-small", small);
                }
                byte[] before = Files.readAllBytes(target);
                try (GuestMemory big = Fixtures.guest(2, 1500)) {
                    IOException e = assertThrows(IOException.class, () -> Fixtures.writeFull(target, "ck-big", big));
                    assertTrue(e.getMessage().contains("No space left on device"), e.toString());
                }
                assertEquals(List.of("ck.ferry"), names(mnt), "the temporary file is gone");
                assertArrayEquals(before, Files.readAllBytes(target), "the previous checkpoint is untouched");
                assertEquals("ck-small", CheckpointReader.info(target).meta().id());
            } finally {
                assertEquals(0, run("umount", mnt.toString()), "umount " + mnt);
            }
        } finally {
            Files.delete(mnt);
        }
    }
}
