package dev.ferry.host.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.apache.pekko.util.ByteString;

class FrameAssemblerPropertiesTest {
    private static final int MAX = 4096;

    @Property(tries = 200)
    void framesComeOutWholeAndInOrderHoweverTheBytesAreCut(
            @ForAll @Size(max = 12) List<@Size(max = MAX) byte[]> frames,
            @ForAll @Size(max = 20) List<@IntRange(min = 1, max = 5000) Integer> cuts) {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (byte[] f : frames) {
            wire.writeBytes(ByteBuffer.allocate(4).putInt(f.length).array());
            wire.writeBytes(f);
        }
        byte[] bytes = wire.toByteArray();
        FrameAssembler assembler = new FrameAssembler(MAX);
        List<byte[]> out = new ArrayList<>();
        int at = 0;
        int i = 0;
        while (at < bytes.length) {
            int n = cuts.isEmpty() ? bytes.length : Math.min(bytes.length - at, cuts.get(i++ % cuts.size()));
            // a chunk as TCP delivers it, sometimes as a rope of two pieces
            ByteString chunk = n > 1 && i % 2 == 0
                    ? ByteString.fromArray(bytes, at, n / 2).concat(ByteString.fromArray(bytes, at + n / 2, n - n / 2))
                    : ByteString.fromArray(bytes, at, n);
            assembler.accept(chunk, f -> out.add(Arrays.copyOf(f.buffer(), f.length())));
            at += n;
        }
        assertEquals(frames.size(), out.size());
        for (int k = 0; k < frames.size(); k++) {
            assertArrayEquals(frames.get(k), out.get(k), "frame " + k);
        }
    }

    @Property(tries = 50)
    void aLengthOverTheCapIsRefusedBeforeItsBytesArrive(@ForAll @IntRange(min = MAX + 1) int length) {
        FrameAssembler assembler = new FrameAssembler(MAX);
        ByteString prefix = ByteString.fromArray(ByteBuffer.allocate(4).putInt(length).array());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> assembler.accept(prefix, f -> { }));
        assertTrue(e.getMessage().contains("over the limit"), e.getMessage());
    }

    @Property(tries = 20)
    void aLengthWithItsTopBitSetIsOverTheCapNotNegative(@ForAll @IntRange(min = Integer.MIN_VALUE, max = -1) int length) {
        FrameAssembler assembler = new FrameAssembler(MAX);
        ByteString prefix = ByteString.fromArray(ByteBuffer.allocate(4).putInt(length).array());
        assertThrows(IllegalArgumentException.class, () -> assembler.accept(prefix, f -> { }));
    }
}
