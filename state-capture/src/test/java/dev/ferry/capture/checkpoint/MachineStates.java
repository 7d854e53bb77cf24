package dev.ferry.capture.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.vmm.kvm.ClockData;
import dev.ferry.vmm.kvm.DescriptorTable;
import dev.ferry.vmm.kvm.MsrEntry;
import dev.ferry.vmm.kvm.Regs;
import dev.ferry.vmm.kvm.Segment;
import dev.ferry.vmm.kvm.Sregs;
import dev.ferry.vmm.kvm.Xcr;
import dev.ferry.vmm.state.MachineState;
import dev.ferry.vmm.state.VcpuState;
import dev.ferry.vmm.state.VmState;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Machine states for tests: random ones from a seed, a fixed one, and a deep comparison (records with arrays). */
final class MachineStates {
    private MachineStates() {}

    static MachineState random(long seed, int vcpus) {
        return random(seed, vcpus, 1);
    }

    /** A random state whose kernel blobs are {@code 1 / shrink} of their real size. */
    static MachineState random(long seed, int vcpus, int shrink) {
        Random r = new Random(seed);
        List<VcpuState> cpus = new ArrayList<>();
        for (int i = 0; i < vcpus; i++) {
            long[] g = r.longs(18).toArray();
            Regs regs = new Regs(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12],
                    g[13], g[14], g[15], g[16], g[17]);
            Sregs sregs = new Sregs(seg(r), seg(r), seg(r), seg(r), seg(r), seg(r), seg(r), seg(r),
                    new DescriptorTable(r.nextLong(), r.nextInt()), new DescriptorTable(r.nextLong(), r.nextInt()),
                    r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(),
                    r.longs(4).toArray());
            List<Xcr> xcrs = List.of(new Xcr(0, r.nextLong()));
            List<MsrEntry> msrs = new ArrayList<>();
            for (int m = r.nextInt(20); m >= 0; m--) {
                msrs.add(new MsrEntry(r.nextInt(), r.nextLong()));
            }
            msrs.add(new MsrEntry(VcpuState.MSR_IA32_TSC, r.nextLong() & Long.MAX_VALUE));
            cpus.add(new VcpuState(i, regs, sregs, bytes(r, 4096 / shrink), xcrs, msrs, bytes(r, 1024 / shrink),
                    bytes(r, 64 / shrink), r.nextInt(5), bytes(r, 128 / shrink), r.nextInt(5_000_000)));
        }
        VmState vm = new VmState(new ClockData(r.nextLong(), r.nextInt()),
                List.of(bytes(r, 520 / shrink), bytes(r, 520 / shrink), bytes(r, 520 / shrink)));
        return new MachineState(vm, cpus);
    }

    private static Segment seg(Random r) {
        return new Segment(r.nextLong(), r.nextInt(), r.nextInt(0x10000), r.nextInt(16), r.nextBoolean(), r.nextInt(4),
                r.nextBoolean(), r.nextBoolean(), r.nextBoolean(), r.nextBoolean(), r.nextBoolean(), r.nextBoolean());
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    static void assertSame(MachineState expected, MachineState actual) {
        assertEquals(expected.vm().clock(), actual.vm().clock());
        assertEquals(expected.vm().irqchips().size(), actual.vm().irqchips().size());
        for (int i = 0; i < expected.vm().irqchips().size(); i++) {
            assertArrayEquals(expected.vm().irqchips().get(i), actual.vm().irqchips().get(i), "irqchip " + i);
        }
        assertEquals(expected.vcpus().size(), actual.vcpus().size());
        for (int i = 0; i < expected.vcpus().size(); i++) {
            VcpuState e = expected.vcpus().get(i);
            VcpuState a = actual.vcpus().get(i);
            assertEquals(e.id(), a.id());
            assertEquals(e.regs(), a.regs());
            assertSregs(e.sregs(), a.sregs());
            assertArrayEquals(e.xsave(), a.xsave(), "xsave");
            assertEquals(e.xcrs(), a.xcrs());
            assertEquals(e.msrs(), a.msrs());
            assertArrayEquals(e.lapic(), a.lapic(), "lapic");
            assertArrayEquals(e.events(), a.events(), "events");
            assertEquals(e.mpState(), a.mpState());
            assertArrayEquals(e.debugRegs(), a.debugRegs(), "debug registers");
            assertEquals(e.tscKhz(), a.tscKhz());
        }
    }

    private static void assertSregs(Sregs e, Sregs a) {
        assertEquals(List.of(e.cs(), e.ds(), e.es(), e.fs(), e.gs(), e.ss(), e.tr(), e.ldt()),
                List.of(a.cs(), a.ds(), a.es(), a.fs(), a.gs(), a.ss(), a.tr(), a.ldt()));
        assertEquals(List.of(e.gdt(), e.idt()), List.of(a.gdt(), a.idt()));
        assertArrayEquals(new long[] {e.cr0(), e.cr2(), e.cr3(), e.cr4(), e.cr8(), e.efer(), e.apicBase()},
                new long[] {a.cr0(), a.cr2(), a.cr3(), a.cr4(), a.cr8(), a.efer(), a.apicBase()});
        assertArrayEquals(e.interruptBitmap(), a.interruptBitmap());
    }
}
