package dev.ferry.vmm.trap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.vmm.bus.AddressSpace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrapLogTest {
    @Test
    void keepsTheNewestRecordsAndCountsTheRestWhileListenersGetAll() {
        TrapLog log = new TrapLog(4);
        List<Long> heard = new ArrayList<>();
        log.addListener(r -> heard.add(r.seq()));
        for (int i = 0; i < 10; i++) {
            log.append(0, AddressSpace.PIO, 0x3F8, 1, AccessDirection.WRITE, i);
        }
        assertEquals(10, log.nextSeq());
        assertEquals(6, log.dropped());
        assertEquals(List.of(6L, 7L, 8L, 9L), log.since(0).stream().map(TrapRecord::seq).toList());
        assertEquals(List.of(8L, 9L), log.since(8).stream().map(TrapRecord::seq).toList());
        assertEquals(10, heard.size());
    }
}
