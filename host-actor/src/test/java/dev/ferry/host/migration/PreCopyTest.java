package dev.ferry.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import dev.ferry.vmm.testing.Guests;
import dev.ferry.vmm.testing.RequiresKvm;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

/** Pre-copy rounds of a running guest over the page streams, in one JVM: at switchover both copies are equal. */
@RequiresKvm
class PreCopyTest {
    private static long[] toArray(PageBitmap b) {
        long[] out = new long[(int) b.count()];
        int[] i = {0};
        b.forEach(p -> out[i[0]++] = p);
        return out;
    }

    @Test
    void roundsThenStopAndCopyLeaveIdenticalMemory() throws Exception {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "precopy",
                ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.parseResources("ferry-host.conf")));
        try (Vm vm = Guests.boot("dirtier", 64L << 20, "workset=8", "rate=20000", "mode=word");
             GuestMemory dst = GuestMemory.allocate(64L << 20)) {
            vm.start();
            vm.console().awaitLine("dirtier workset_mib", 10_000);
            vm.setVirtualization(Virtualization.ON);
            PageBitmap dirty = vm.newPageBitmap();
            vm.fetchDirtyPages(dirty);
            PageReceiver receiver = new PageReceiver(system, dst, "127.0.0.1");
            try (PageSender sender = new PageSender(system, vm.memory(), "127.0.0.1", receiver.port(), 2, "t", "i")) {
                long[] all = new long[(int) vm.memory().pageCount()];
                int[] n = {0};
                vm.memory().forEachPopulatedPage(p -> all[n[0]++] = p);
                long[] pages = java.util.Arrays.copyOf(all, n[0]);
                for (int round = 0; round < 4; round++) {
                    sender.send(pages, pages.length, round);
                    sender.awaitAcknowledged(30_000);
                    dirty.clear();
                    vm.fetchDirtyPages(dirty);
                    pages = toArray(dirty);
                }
                vm.pause();
                vm.fetchDirtyPages(dirty); // adds to the pages still pending from the last round
                pages = toArray(dirty);
                sender.send(pages, pages.length, 4);
                sender.awaitAcknowledged(30_000);
                receiver.awaitBatches(sender.batches(), 10_000);
            } finally {
                receiver.close();
            }
            List<Long> differ = new ArrayList<>();
            ByteBuffer a = ByteBuffer.allocate(4096);
            ByteBuffer b = ByteBuffer.allocate(4096);
            for (long p = 0; p < vm.memory().pageCount(); p++) {
                a.clear();
                b.clear();
                vm.memory().readPage(p, a);
                dst.readPage(p, b);
                if (!a.flip().equals(b.flip())) {
                    differ.add(p);
                }
            }
            assertEquals(List.of(), differ.subList(0, Math.min(20, differ.size())), differ.size() + " pages differ");
        } finally {
            system.terminate();
        }
    }
}
