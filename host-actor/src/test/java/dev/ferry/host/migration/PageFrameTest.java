package dev.ferry.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.protocol.v1.PageBatch;
import dev.ferry.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class PageFrameTest {
    @Test
    void aFrameBuiltWithoutCopyingThePageDataParsesBackToTheSameBatch() throws Exception {
        try (GuestMemory memory = GuestMemory.allocate(16L << 20)) {
            ByteBuffer page = ByteBuffer.allocate(GuestMemory.PAGE_SIZE);
            for (int p = 1; p < 64; p += 2) {
                page.clear();
                while (page.hasRemaining()) {
                    page.put((byte) (p + page.position()));
                }
                memory.writePage(p, page.flip());
            }
            long[] pages = new long[64];
            for (int i = 0; i < pages.length; i++) {
                pages[i] = i;
            }
            PageBatch batch = BatchCodec.encode(memory, pages, 0, 64, 7, 3);
            assertEquals(32 * GuestMemory.PAGE_SIZE, batch.getData().size(), "the zero pages travel as bits");
            PageBatch parsed = PageBatch.parseFrom(PageSender.frame(batch).toArray());
            assertEquals(batch, parsed);
            try (GuestMemory copy = GuestMemory.allocate(16L << 20)) {
                assertEquals(64, BatchCodec.verifyAndApply(parsed, copy));
                assertEquals(memory.checksum(), copy.checksum());
            }
        }
    }

    @Test
    void aBatchOfZeroPagesOnlyIsItsHeadAlone() throws Exception {
        try (GuestMemory memory = GuestMemory.allocate(16L << 20)) {
            PageBatch batch = BatchCodec.encode(memory, new long[] {4, 5}, 0, 2, 0, 1);
            assertEquals(batch, PageBatch.parseFrom(PageSender.frame(batch).toArray()));
        }
    }
}
