package dev.ferry.vmm.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GuestMemoryHoldTest {
    @Test
    void closeWaitsForAHeldReaderAndThenRefusesNewHolds() throws Exception {
        GuestMemory memory = GuestMemory.allocate(16L << 20);
        memory.writeLong(4096, 42);
        GuestMemory.Hold hold = memory.hold();
        CompletableFuture<Void> closing = CompletableFuture.runAsync(memory::close);
        Thread.sleep(300);
        assertFalse(closing.isDone(), "guest RAM was unmapped under a reader that holds it");
        assertEquals(42, memory.readLong(4096), "the holder still reads guest RAM");
        assertThrows(IllegalStateException.class, memory::hold, "a new hold once closing has begun");
        hold.close();
        hold.close(); // releasing twice is harmless
        closing.get(5, TimeUnit.SECONDS);
        IllegalStateException e = assertThrows(IllegalStateException.class, memory::hold);
        assertTrue(e.getMessage().contains("released"), e.getMessage());
    }

    @Test
    void closeWithoutHoldsDoesNotWait() throws Exception {
        GuestMemory memory = GuestMemory.allocate(16L << 20);
        memory.hold().close();
        CompletableFuture.runAsync(memory::close).get(5, TimeUnit.SECONDS);
    }
}
