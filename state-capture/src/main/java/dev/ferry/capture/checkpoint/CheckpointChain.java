package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.state.MachineState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A full checkpoint and the incremental ones built on it, found from the newest by following each file's
 * parent name in the same directory and checking that the file found carries the id its child names. Every
 * file is verified on opening. Restoring applies the full checkpoint's memory, then each incremental's in
 * order; machine state, devices and trap log come from the newest.
 */
public final class CheckpointChain implements AutoCloseable {
    /** No chain is followed further than this. */
    public static final int MAX_LENGTH = 1024;

    private final List<CheckpointReader> links;

    private CheckpointChain(List<CheckpointReader> links) {
        this.links = Collections.unmodifiableList(links);
    }

    /** Opens the chain that ends with {@code newest}. */
    public static CheckpointChain open(Path newest) throws IOException {
        List<CheckpointReader> newestFirst = new ArrayList<>();
        try {
            Set<String> seen = new HashSet<>();
            CheckpointReader r = CheckpointReader.open(newest);
            while (true) {
                newestFirst.add(r);
                CheckpointMeta m = r.meta();
                if (!seen.add(m.id())) {
                    throw CheckpointFormatException.chainLoop(r.file(), m.id());
                }
                if (m.parent().isEmpty()) {
                    break;
                }
                if (newestFirst.size() >= MAX_LENGTH) {
                    throw CheckpointFormatException.chainTooLong(newest, MAX_LENGTH);
                }
                r = openParent(r);
            }
        } catch (IOException | RuntimeException e) {
            for (CheckpointReader open : newestFirst) {
                try {
                    open.close();
                } catch (IOException c) {
                    e.addSuppressed(c);
                }
            }
            throw e;
        }
        Collections.reverse(newestFirst);
        return new CheckpointChain(newestFirst);
    }

    private static CheckpointReader openParent(CheckpointReader child) throws IOException {
        CheckpointMeta m = child.meta();
        ParentRef ref = m.parent().orElseThrow();
        Path dir = child.file().toAbsolutePath().getParent();
        Path parentFile = dir.resolve(ref.fileName());
        if (!Files.isRegularFile(parentFile)) {
            throw CheckpointFormatException.missingParent(child.file(), ref, dir);
        }
        CheckpointReader parent = CheckpointReader.open(parentFile);
        try {
            if (!parent.meta().id().equals(ref.id())) {
                throw CheckpointFormatException.parentMismatch(child.file(), ref, parent.meta().id());
            }
            if (parent.meta().memorySize() != m.memorySize()) {
                throw CheckpointFormatException.parentSizeMismatch(child.file(), m.memorySize(), ref.fileName(),
                        parent.meta().memorySize());
            }
            return parent;
        } catch (IOException | RuntimeException e) {
            parent.close();
            throw e;
        }
    }

    /** Oldest (the full checkpoint) first. */
    public List<CheckpointReader> links() {
        return links;
    }

    public CheckpointReader newest() {
        return links.get(links.size() - 1);
    }

    public CheckpointMeta meta() {
        return newest().meta();
    }

    public MachineState machineState() {
        return newest().machineState();
    }

    public Map<String, byte[]> devices() {
        return newest().devices();
    }

    public byte[] trapLogSummary() {
        return newest().trapLogSummary();
    }

    /** Writes the chain's memory into {@code target}, a freshly allocated guest of the chain's memory size. */
    public void applyMemory(GuestMemory target) throws IOException {
        for (CheckpointReader r : links) {
            r.applyMemory(target);
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (CheckpointReader r : links) {
            try {
                r.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
