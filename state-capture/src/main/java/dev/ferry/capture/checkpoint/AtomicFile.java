package dev.ferry.capture.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A file that appears whole or not at all: written as a hidden temporary file in the target's directory,
 * then {@link #commit()} syncs it, renames it over the target and syncs the directory. Closed without a commit
 * (any failure on the way), it deletes the temporary file and leaves a previous target untouched.
 */
final class AtomicFile implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private boolean committed;

    private AtomicFile(Path target, Path temp, FileChannel channel) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
    }

    static AtomicFile create(Path target) throws IOException {
        Path dir = directoryOf(target);
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        try {
            return new AtomicFile(target, temp, FileChannel.open(temp, StandardOpenOption.WRITE));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    private static Path directoryOf(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null) {
            throw new IllegalArgumentException("checkpoint target " + target + " has no directory");
        }
        return dir;
    }

    FileChannel channel() {
        return channel;
    }

    Path temp() {
        return temp;
    }

    /** Makes the written bytes durable under the target's name; returns how long syncing the file's data took (ns). */
    long commit() throws IOException {
        long t0 = System.nanoTime();
        channel.force(true);
        long synced = System.nanoTime() - t0;
        channel.close();
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
        try (FileChannel dir = FileChannel.open(directoryOf(target), StandardOpenOption.READ)) {
            dir.force(true);
        }
        return synced;
    }

    @Override
    public void close() throws IOException {
        if (committed) {
            return;
        }
        try {
            channel.close();
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
