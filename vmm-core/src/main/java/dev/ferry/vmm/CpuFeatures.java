package dev.ferry.vmm;

import dev.ferry.vmm.kvm.CpuidEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The CPU features guests on this host see (KVM's supported CPUID), by name: what placement compares, since a
 * guest that started on a host with a feature may use it, and must not move to a host without it.
 *
 * <p>{@code -Dferry.cpu.hide=avx2,avx512f} hides features from this host's guests (and from its report), as an older
 * CPU would: for mixed clusters on one machine and their tests.
 */
public final class CpuFeatures {
    /** A feature: its name, the CPUID leaf (sub-leaf 0), the register (ebx, ecx or edx) and the bit. */
    private record Bit(String name, int leaf, char register, int bit) {}

    private static final List<Bit> KNOWN = List.of(
            new Bit("sse3", 1, 'c', 0), new Bit("pclmulqdq", 1, 'c', 1), new Bit("ssse3", 1, 'c', 9),
            new Bit("fma", 1, 'c', 12), new Bit("cx16", 1, 'c', 13), new Bit("sse4_1", 1, 'c', 19),
            new Bit("sse4_2", 1, 'c', 20), new Bit("movbe", 1, 'c', 22), new Bit("popcnt", 1, 'c', 23),
            new Bit("aes", 1, 'c', 25), new Bit("xsave", 1, 'c', 26), new Bit("avx", 1, 'c', 28),
            new Bit("f16c", 1, 'c', 29), new Bit("rdrand", 1, 'c', 30),
            new Bit("sse", 1, 'd', 25), new Bit("sse2", 1, 'd', 26),
            new Bit("bmi1", 7, 'b', 3), new Bit("avx2", 7, 'b', 5), new Bit("bmi2", 7, 'b', 8),
            new Bit("erms", 7, 'b', 9), new Bit("avx512f", 7, 'b', 16), new Bit("avx512dq", 7, 'b', 17),
            new Bit("rdseed", 7, 'b', 18), new Bit("adx", 7, 'b', 19), new Bit("avx512bw", 7, 'b', 30),
            new Bit("avx512vl", 7, 'b', 31), new Bit("sha", 7, 'b', 29), new Bit("vaes", 7, 'c', 9),
            new Bit("vpclmulqdq", 7, 'c', 10));

    private CpuFeatures() {}

    /** The named features {@code cpuid} offers, sorted. */
    public static List<String> of(List<CpuidEntry> cpuid) {
        Set<String> out = new TreeSet<>();
        for (Bit b : KNOWN) {
            for (CpuidEntry e : cpuid) {
                if (e.function() == b.leaf() && e.index() == 0 && (register(e, b.register()) & (1 << b.bit())) != 0) {
                    out.add(b.name());
                }
            }
        }
        return List.copyOf(out);
    }

    /** The features named in {@code -Dferry.cpu.hide}, checked against the known names. */
    static Set<String> hidden() {
        String spec = System.getProperty("ferry.cpu.hide", "").trim();
        Set<String> names = new TreeSet<>();
        if (spec.isEmpty()) {
            return names;
        }
        for (String n : spec.split(",")) {
            String name = n.trim();
            if (KNOWN.stream().noneMatch(b -> b.name().equals(name))) {
                throw new IllegalArgumentException("ferry.cpu.hide names unknown CPU feature '" + name + "'; known: "
                        + KNOWN.stream().map(Bit::name).toList());
            }
            names.add(name);
        }
        return names;
    }

    /** {@code cpuid} with the {@code hidden} features' bits cleared. */
    static List<CpuidEntry> hide(List<CpuidEntry> cpuid, Set<String> hidden) {
        List<CpuidEntry> out = new ArrayList<>(cpuid.size());
        for (CpuidEntry e : cpuid) {
            int ebx = e.ebx();
            int ecx = e.ecx();
            int edx = e.edx();
            for (Bit b : KNOWN) {
                if (hidden.contains(b.name()) && e.function() == b.leaf() && e.index() == 0) {
                    switch (b.register()) {
                        case 'b' -> ebx &= ~(1 << b.bit());
                        case 'c' -> ecx &= ~(1 << b.bit());
                        default -> edx &= ~(1 << b.bit());
                    }
                }
            }
            out.add(new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), ebx, ecx, edx));
        }
        return out;
    }

    /** The features {@code required} names that {@code offered} lacks, sorted. */
    public static List<String> missing(List<String> required, List<String> offered) {
        return required.stream().filter(f -> !offered.contains(f)).sorted().toList();
    }

    private static int register(CpuidEntry e, char r) {
        return switch (r) {
            case 'b' -> e.ebx();
            case 'c' -> e.ecx();
            default -> e.edx();
        };
    }
}
