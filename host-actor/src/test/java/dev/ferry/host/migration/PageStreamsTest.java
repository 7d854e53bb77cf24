package dev.ferry.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.ferry.vmm.memory.GuestMemory;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.TestInstance;

/** Page streams over loopback TCP in one JVM: every page arrives verified, and the destination ends equal. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PageStreamsTest {
    private ActorSystem<Void> system;

    @BeforeAll
    void start() {
        system = ActorSystem.create(Behaviors.empty(), "streams", ConfigFactory.parseString(
                "pekko.actor.provider = local\n").withFallback(ConfigFactory.parseResources("ferry-host.conf"))
                .withFallback(ConfigFactory.load()).withValue("pekko.actor.provider",
                        ConfigFactory.parseString("x = local").getValue("x")));
    }

    @AfterAll
    void stop() {
        system.terminate();
    }

    private static long[] fill(GuestMemory m, int pages) {
        long[] list = new long[pages];
        for (int i = 0; i < pages; i++) {
            long p = i * 3L;
            list[i] = p;
            if (i % 7 != 0) {
                m.writeLong(p * 4096 + (i % 500) * 8, 0x1234_0000L + i);
            }
        }
        return list;
    }

    @ParameterizedTest(name = "lz4 {0}")
    @ValueSource(booleans = {false, true})
    void everyPageArrivesOverParallelStreamsAndTheCopiesMatch(boolean lz4) throws Exception {
        try (GuestMemory src = GuestMemory.allocate(64L << 20); GuestMemory dst = GuestMemory.allocate(64L << 20)) {
            long[] pages = fill(src, 3000);
            PageReceiver receiver = new PageReceiver(system, dst, "127.0.0.1");
            try (PageSender sender = new PageSender(system, src, "127.0.0.1", receiver.port(), 2, "test", "i", lz4)) {
                sender.send(pages, pages.length, 0);
                sender.awaitAcknowledged(30_000);
                receiver.awaitBatches(sender.batches(), 10_000);
                assertEquals((3000 + 63) / 64, sender.batches());
                assertTrue(sender.zeroPages() > 400, "zero pages travel as bits: " + sender.zeroPages());
                assertEquals(lz4 ? sender.batches() : 0, sender.compressedBatches(), "one-word pages compress");
                long raw = (3000 - sender.zeroPages()) * 4096L;
                assertTrue(lz4 ? sender.bytes() < raw / 20 : sender.bytes() > raw,
                        "bytes on the wire: " + sender.bytes() + " for " + raw + " bytes of pages");
            } finally {
                receiver.close();
            }
            assertEquals(src.checksum(), dst.checksum());
        }
    }

    @Test
    void aRefusedBatchFailsTheSender() throws Exception {
        try (GuestMemory src = GuestMemory.allocate(64L << 20); GuestMemory dst = GuestMemory.allocate(16L << 20)) {
            long[] pages = {(32L << 20) / 4096};
            src.writeLong(32L << 20, 1);
            PageReceiver receiver = new PageReceiver(system, dst, "127.0.0.1");
            try (PageSender sender = new PageSender(system, src, "127.0.0.1", receiver.port(), 1, "test", "i")) {
                sender.send(pages, 1, 0);
                MigrationException e = assertThrows(MigrationException.class, () -> sender.awaitAcknowledged(10_000));
                assertTrue(e.getMessage().contains("names page"), e.getMessage());
            } finally {
                receiver.close();
            }
        }
    }
}
