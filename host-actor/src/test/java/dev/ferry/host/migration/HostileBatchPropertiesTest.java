package dev.ferry.host.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.protocol.v1.PageBatch;
import dev.ferry.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * A destination applies a page batch only when every part of it checks out: random and mutated batches (as bytes
 * from a peer) are either refused with {@link IllegalArgumentException} (or fail to parse), leaving guest RAM as it
 * was, or applied exactly as a valid batch with the same pages and contents would be.
 */
class HostileBatchPropertiesTest {
    private static final int PAGES = 256;
    private static GuestMemory source;

    @BeforeContainer
    static void fill() {
        source = GuestMemory.allocate(16L << 20);
        ByteBuffer page = ByteBuffer.allocate(GuestMemory.PAGE_SIZE);
        for (int p = 0; p < PAGES; p++) {
            if (p % 5 == 0) {
                continue; // zero pages travel as a bit
            }
            page.clear();
            while (page.hasRemaining()) {
                page.put((byte) (p * 31 + page.position()));
            }
            page.flip();
            source.writePage(p, page);
        }
    }

    @AfterContainer
    static void free() {
        source.close();
    }

    private static byte[] snapshot(GuestMemory m) {
        ByteBuffer all = ByteBuffer.allocate(PAGES * GuestMemory.PAGE_SIZE);
        for (int p = 0; p < PAGES; p++) {
            m.readPage(p, all);
        }
        return all.array();
    }

    @Provide
    Arbitrary<long[]> pageSets() {
        return Arbitraries.longs().between(0, PAGES - 1).set().ofMinSize(1).ofMaxSize(BatchCodec.MAX_PAGES)
                .map(s -> s.stream().mapToLong(Long::longValue).sorted().toArray());
    }

    @Property(tries = 300)
    void aMutatedBatchIsRefusedOrAppliedExactlyAsSent(@ForAll("pageSets") long[] pages,
                                                       @ForAll("mutations") int[] mutation,
                                                       @ForAll boolean lz4) throws Exception {
        PageBatch valid = BatchCodec.encode(source, pages, 0, pages.length, 7, 1, lz4);
        byte[] wire = valid.toByteArray();
        int at = Math.floorMod(mutation[0], wire.length);
        wire[at] ^= (byte) (mutation[1] == 0 ? 1 : mutation[1]);
        if (mutation[2] % 3 == 0) {
            wire = Arrays.copyOf(wire, Math.floorMod(mutation[2], wire.length + 1));
        }
        PageBatch received;
        try {
            received = PageBatch.parseFrom(wire);
        } catch (InvalidProtocolBufferException refused) {
            return;
        }
        try (GuestMemory target = GuestMemory.allocate(16L << 20)) {
            byte[] before = snapshot(target);
            int applied;
            try {
                applied = BatchCodec.verifyAndApply(received, target);
            } catch (IllegalArgumentException refused) {
                assertArrayEquals(before, snapshot(target), "a refused batch wrote nothing");
                return;
            }
            // Accepted: it must be a batch whose checked parts are intact, so RAM holds exactly what it names.
            assertEquals(received.getPagesCount(), applied);
            try (GuestMemory expected = GuestMemory.allocate(16L << 20)) {
                ByteBuffer page = ByteBuffer.allocate(GuestMemory.PAGE_SIZE);
                for (long p : received.getPagesList()) {
                    page.clear();
                    source.readPage(p, page);
                    page.flip();
                    expected.writePage(p, page);
                }
                assertArrayEquals(snapshot(expected), snapshot(target), "applied pages equal the source's");
            }
        }
    }

    @Provide
    Arbitrary<int[]> mutations() {
        return Arbitraries.integers().array(int[].class).ofSize(3);
    }

    @Property(tries = 200)
    void randomBytesNeverGetPastTheChecks(@ForAll byte[] bytes) {
        PageBatch b;
        try {
            b = PageBatch.parseFrom(bytes);
        } catch (InvalidProtocolBufferException refused) {
            return;
        }
        try (GuestMemory target = GuestMemory.allocate(16L << 20)) {
            try {
                BatchCodec.verifyAndApply(b, target);
                throw new AssertionError("random bytes were applied: " + b);
            } catch (IllegalArgumentException refused) {
                // the only acceptable outcome
            }
        }
    }
}
