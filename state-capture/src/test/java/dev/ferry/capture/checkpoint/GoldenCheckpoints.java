package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.vmm.kvm.ClockData;
import dev.ferry.vmm.kvm.DescriptorTable;
import dev.ferry.vmm.kvm.MsrEntry;
import dev.ferry.vmm.kvm.Regs;
import dev.ferry.vmm.kvm.Segment;
import dev.ferry.vmm.kvm.Sregs;
import dev.ferry.vmm.kvm.Xcr;
import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import dev.ferry.vmm.state.MachineState;
import dev.ferry.vmm.state.VcpuState;
import dev.ferry.vmm.state.VmState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The golden checkpoint files of format 1.0 and their known contents. The files were written once by
 * {@link #writeGoldenFiles()} (see the README beside them) and are never rewritten: a new format version adds
 * its own files; a reader must keep reading these.
 */
class GoldenCheckpoints {
    static final Path DIR = Path.of("src", "test", "resources", "checkpoint", "golden");
    static final String FULL = "full-1.0.ferry";
    static final String INCREMENTAL = "incremental-1.0.ferry";
    static final long MEMORY = 16L << 20;
    static final Instant CREATED = Instant.parse("2025-06-01T12:00:00.5Z");

    static CheckpointMeta fullMeta() {
        return CheckpointMeta.full("golden-full", CREATED, "golden-vm", "heartbeat", MEMORY,
                Map.of("disk", "/images/golden.img"));
    }

    static CheckpointMeta incrementalMeta() {
        return fullMeta().child("golden-inc", new ParentRef("golden-full", FULL), CREATED.plusSeconds(1));
    }

    static MachineState machineState(long rip) {
        Segment code = Segment.code64(0x23, 3);
        Segment data = Segment.data(0x1b, 3);
        Sregs sregs = new Sregs(code, data, data, data, data, data, Segment.tss(0x28, 0x5000, 0x67),
                new Segment(0, 0xFFFF, 0, 2, true, 0, false, false, false, false, false, false),
                new DescriptorTable(0x1000, 0x37), new DescriptorTable(0x2000, 0xFFF),
                0x8005_0033L, 0, 0x9000, 0x6A0, 0, 0xD01, 0xFEE0_0900L, new long[] {0, 1, 0, 1L << 63});
        Regs regs = new Regs(1, 2, 3, 4, 5, 6, 0x7FF0, 8, 9, 10, 11, 12, 13, 14, 15, 16, rip, 0x202);
        byte[] xsave = new byte[4096];
        xsave[0] = 0x7F;
        xsave[512] = 3;
        VcpuState vcpu = new VcpuState(0, regs, sregs, xsave, List.of(new Xcr(0, 7)),
                List.of(new MsrEntry(VcpuState.MSR_IA32_TSC, 123_456_789L), new MsrEntry(0xC000_0080, 0xD01)),
                bytes(1024, 0x11), bytes(64, 0x22), 0, bytes(128, 0x33), 2_500_000);
        VmState vm = new VmState(new ClockData(987_654_321L, 2), List.of(bytes(520, 1), bytes(520, 2), bytes(520, 3)));
        return new MachineState(vm, List.of(vcpu));
    }

    private static byte[] bytes(int n, int fill) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) fill);
        return b;
    }

    static Map<String, byte[]> devices(int generation) {
        return Map.of("uart", new byte[] {0x03, 0x60, (byte) generation}, "platform", "ok".getBytes(StandardCharsets.UTF_8));
    }

    static byte[] trapLog(int generation) {
        return ("traps=" + generation).getBytes(StandardCharsets.UTF_8);
    }

    /** Guest memory at the full checkpoint: text, a table, random bytes, a pattern, and a page written with zeros. */
    static void fillFull(GuestMemory m) {
        write(m, 0, "Ferry golden page zero. ".repeat(171).getBytes(StandardCharsets.US_ASCII));
        write(m, 1, new byte[GuestPages.PAGE]);
        byte[] table = new byte[GuestPages.PAGE];
        for (int i = 0; i < table.length; i += 8) {
            table[i] = (byte) i;
            table[i + 1] = (byte) (i >>> 8);
        }
        write(m, 300, table);
        byte[] random = new byte[GuestPages.PAGE];
        new SplittableRandom(42).nextBytes(random);
        write(m, 2048, random);
        byte[] pattern = new byte[GuestPages.PAGE];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 7);
        }
        write(m, m.pageCount() - 1, pattern);
    }

    /** The changes the incremental checkpoint holds: page 300 rewritten, page 0 zeroed, page 77 new. */
    static void fillIncremental(GuestMemory m) {
        write(m, 300, "rewritten ".repeat(410).substring(0, GuestPages.PAGE).getBytes(StandardCharsets.US_ASCII));
        write(m, 0, new byte[GuestPages.PAGE]);
        write(m, 77, "page seventy-seven".repeat(228).substring(0, GuestPages.PAGE).getBytes(StandardCharsets.US_ASCII));
    }

    private static void write(GuestMemory m, long page, byte[] data) {
        m.write(m.gpaOfPage(page), data, 0, GuestPages.PAGE);
    }

    @Test
    @EnabledIfSystemProperty(named = "ferry.golden.write", matches = "true")
    void writeGoldenFiles() throws IOException {
        Files.createDirectories(DIR);
        try (GuestMemory m = GuestMemory.allocate(MEMORY)) {
            fillFull(m);
            m.drainVmmWrites(new PageBitmap(m.pageCount()));
            CheckpointWriter w = new CheckpointWriter();
            w.write(DIR.resolve(FULL), new CheckpointContents(fullMeta(), machineState(0x100000), devices(1),
                    trapLog(1)), m, PageSelection.populated());
            fillIncremental(m);
            PageBitmap dirty = new PageBitmap(m.pageCount());
            m.drainVmmWrites(dirty);
            assertEquals(3, dirty.count());
            w.write(DIR.resolve(INCREMENTAL), new CheckpointContents(incrementalMeta(), machineState(0x100040),
                    devices(2), trapLog(2)), m, PageSelection.dirty(dirty));
        }
    }
}
