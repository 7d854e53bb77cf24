package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.memory.PageBitmap;
import dev.ferry.vmm.state.MachineState;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.Guests.Beat;
import dev.ferry.vmm.testing.RequiresKvm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@RequiresKvm
class CheckpointKvmRestoreTest {
    private static final long MEMORY = 64 * Guests.MIB;

    @TempDir
    Path dir;

    private static CheckpointContents contents(CheckpointMeta meta, MachineState state) {
        return new CheckpointContents(meta, state, Map.of(), new byte[0]);
    }

    /** The last beat the guest started printing (a line cut by the pause counts: the restored guest finishes it). */
    private static Beat lastBeat(Vm vm) {
        List<Beat> beats = Guests.beats(vm.console().recentLines());
        Beat last = beats.get(beats.size() - 1);
        return vm.console().partialLine().isEmpty() ? last : new Beat(last.seq() + 1, last.tsc(), last.sum());
    }

    /** Restores the chain ending at {@code newest} into a new VM (not started). */
    private static Vm restore(Path newest) throws IOException {
        try (CheckpointChain chain = CheckpointChain.open(newest)) {
            Vm vm = Hypervisor.get().restore("restored", chain.meta().memorySize(), chain.machineState(),
                    new ConsoleOutput());
            try {
                chain.applyMemory(vm.memory());
                return vm;
            } catch (IOException | RuntimeException e) {
                vm.close();
                throw e;
            }
        }
    }

    private static void assertContinues(Vm vm, Beat last) throws InterruptedException {
        vm.start();
        List<Beat> after = Guests.awaitBeats(vm, 3, 10_000);
        Beat first = after.get(0);
        assertEquals(last.seq() + 1, first.seq(), "the restored guest continues the count");
        assertTrue(first.tsc() > last.tsc(), "guest clock went backward: " + first.tsc() + " <= " + last.tsc());
        for (int i = 1; i < after.size(); i++) {
            assertEquals(first.seq() + i, after.get(i).seq());
            assertTrue(after.get(i).tsc() > after.get(i - 1).tsc());
        }
    }

    @Test
    void guestRestoredFromAFullCheckpointFileKeepsCounting() throws Exception {
        Path file = dir.resolve("hb-1.ferry");
        Beat last;
        long checksum;
        try (Vm source = Guests.boot("heartbeat", MEMORY, "interval_ms=50")) {
            source.start();
            Guests.awaitBeats(source, 4, 10_000);
            source.pause();
            last = lastBeat(source);
            checksum = source.memory().checksum();
            CheckpointMeta meta = CheckpointMeta.full("hb-1", Instant.now(), source.name(), "heartbeat", MEMORY,
                    Map.of());
            new CheckpointWriter().write(file, contents(meta, source.captureMachineState()), source.memory(),
                    PageSelection.populated());
        }
        try (Vm vm = restore(file)) {
            assertEquals(checksum, vm.memory().checksum(), "restored memory differs from the source");
            assertContinues(vm, last);
        }
    }

    @Test
    void guestRestoredFromAFullAndAnIncrementalCheckpointContinuesFromTheNewest() throws Exception {
        Path full = dir.resolve("hb-1.ferry");
        Path inc = dir.resolve("hb-2.ferry");
        Beat last;
        long checksum;
        try (Vm source = Guests.boot("heartbeat", MEMORY, "interval_ms=50")) {
            source.start();
            Guests.awaitBeats(source, 2, 10_000);
            source.setVirtualization(Virtualization.ON);
            source.pause();
            PageBitmap dirty = source.newPageBitmap();
            source.fetchDirtyPages(dirty);
            CheckpointMeta meta = CheckpointMeta.full("hb-1", Instant.now(), source.name(), "heartbeat", MEMORY,
                    Map.of());
            new CheckpointWriter().write(full, contents(meta, source.captureMachineState()), source.memory(),
                    PageSelection.populated());
            long beatsAtFull = lastBeat(source).seq();
            source.resume();
            Guests.awaitBeats(source, Guests.beats(source.console().recentLines()).size() + 3, 10_000);
            source.pause();
            dirty.clear();
            source.fetchDirtyPages(dirty);
            last = lastBeat(source);
            assertTrue(last.seq() >= beatsAtFull + 3, "the guest beat after the full checkpoint");
            checksum = source.memory().checksum();
            CheckpointMeta child = meta.child("hb-2", ParentRef.of(meta, full), Instant.now());
            WriteReport report = new CheckpointWriter().write(inc, contents(child, source.captureMachineState()),
                    source.memory(), PageSelection.dirty(dirty));
            assertEquals(dirty.count(), report.memory().pages());
        }
        try (Vm vm = restore(inc)) {
            assertEquals(checksum, vm.memory().checksum(), "the chain restores the newest memory");
            assertContinues(vm, last);
        }
    }
}
