package dev.ferry.vmm.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * Where guest RAM goes in guest-physical space: below the MMIO hole at 3 GiB, the rest above 4 GiB
 * (the layout of {@code guests/ABI.md}).
 */
public final class MemoryLayout {
    public static final long MIN_SIZE = 16L << 20;
    public static final long MAX_SIZE = 64L << 30;
    public static final long MMIO_HOLE_START = 3L << 30;
    public static final long MMIO_HOLE_END = 4L << 30;

    private MemoryLayout() {}

    /** Splits {@code size} bytes of RAM into regions; rejects sizes the core cannot map, saying why. */
    public static List<MemoryRegion> regionsFor(long size) {
        validate(size);
        List<MemoryRegion> regions = new ArrayList<>(2);
        long low = Math.min(size, MMIO_HOLE_START);
        regions.add(new MemoryRegion(0, 0, low, 0));
        if (size > low) {
            regions.add(new MemoryRegion(1, MMIO_HOLE_END, size - low, low));
        }
        return List.copyOf(regions);
    }

    public static void validate(long size) {
        if (size % GuestMemory.PAGE_SIZE != 0) {
            throw new IllegalArgumentException("memory size " + size + " bytes is not a multiple of 4 KiB");
        }
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("memory size " + MemorySize.format(size) + " is below the minimum of "
                    + MemorySize.format(MIN_SIZE));
        }
        if (size > MAX_SIZE) {
            throw new IllegalArgumentException("memory size " + MemorySize.format(size)
                    + " exceeds the largest guest the core maps (" + MemorySize.format(MAX_SIZE) + ")");
        }
    }

    /** One past the highest guest-physical RAM address for {@code size} bytes of RAM. */
    public static long topOfRam(long size) {
        return size <= MMIO_HOLE_START ? size : MMIO_HOLE_END + (size - MMIO_HOLE_START);
    }
}
