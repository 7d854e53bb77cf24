package dev.ferry.vmm.bus;

import dev.ferry.vmm.trap.AccessDirection;
import dev.ferry.vmm.trap.TrapLog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Routes register accesses from vCPU exits to devices. While virtualization is ON, every access that
 * crosses the bus is appended to the {@link TrapLog} in the order the devices see it; while OFF, nothing
 * is recorded. Accesses to addresses no device claims read as all ones and are otherwise ignored,
 * as on a real bus.
 */
public final class DeviceBus {
    private record Mapping(AddressSpace space, long base, long length, BusDevice device) {
        boolean contains(AddressSpace s, long addr) {
            return s == space && addr >= base && addr - base < length;
        }
    }

    private final List<Mapping> mappings = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final TrapLog trapLog;
    private volatile boolean trapping;
    private long unclaimedAccesses;

    public DeviceBus(TrapLog trapLog) {
        this.trapLog = trapLog;
    }

    /** Claims {@code [base, base + length)} in {@code space} for {@code device}; overlapping claims are refused. */
    public void register(AddressSpace space, long base, long length, BusDevice device) {
        lock.lock();
        try {
            for (Mapping m : mappings) {
                if (m.space == space && base < m.base + m.length && m.base < base + length) {
                    throw new IllegalArgumentException(device.name() + " at " + space + " 0x" + Long.toHexString(base)
                            + " overlaps " + m.device.name() + " at 0x" + Long.toHexString(m.base));
                }
            }
            mappings.add(new Mapping(space, base, length, device));
        } finally {
            lock.unlock();
        }
    }

    public TrapLog trapLog() {
        return trapLog;
    }

    public boolean isTrapping() {
        return trapping;
    }

    /** Turns trap logging on or off; call only while every vCPU is paused so the switch falls between accesses. */
    public void setTrapping(boolean on) {
        lock.lock();
        try {
            if (on != trapping) {
                trapping = on;
                trapLog.markVirtualization(on);
            }
        } finally {
            lock.unlock();
        }
    }

    public long unclaimedAccesses() {
        return unclaimedAccesses;
    }

    private Mapping find(AddressSpace space, long addr) {
        for (int i = 0, n = mappings.size(); i < n; i++) {
            Mapping m = mappings.get(i);
            if (m.contains(space, addr)) {
                return m;
            }
        }
        return null;
    }

    /** A read by the host itself (state capture, restore): reaches the device but is never trap-logged. */
    public long hostRead(AddressSpace space, long addr, int width) {
        lock.lock();
        try {
            Mapping m = find(space, addr);
            return m == null ? (width >= 8 ? -1L : (1L << (8 * width)) - 1) : m.device.read(HOST, addr - m.base, width);
        } finally {
            lock.unlock();
        }
    }

    /** A write by the host itself (state capture, restore): reaches the device but is never trap-logged. */
    public void hostWrite(AddressSpace space, long addr, int width, long value) {
        lock.lock();
        try {
            Mapping m = find(space, addr);
            if (m != null) {
                m.device.write(HOST, addr - m.base, width, value);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The context of host accesses: vCPU -1, and no idle or exit requests. */
    public static final AccessContext HOST = new AccessContext() {
        @Override
        public int vcpuId() {
            return -1;
        }

        @Override
        public void requestIdle(long nanos) {}

        @Override
        public void requestExit(int code) {}
    };

    public long read(AccessContext ctx, AddressSpace space, long addr, int width) {
        lock.lock();
        try {
            Mapping m = find(space, addr);
            long value;
            if (m == null) {
                unclaimedAccesses++;
                value = width >= 8 ? -1L : (1L << (8 * width)) - 1;
            } else {
                value = m.device.read(ctx, addr - m.base, width);
            }
            if (trapping) {
                trapLog.append(ctx.vcpuId(), space, addr, width, AccessDirection.READ, value);
            }
            return value;
        } finally {
            lock.unlock();
        }
    }

    public void write(AccessContext ctx, AddressSpace space, long addr, int width, long value) {
        lock.lock();
        try {
            if (trapping) {
                trapLog.append(ctx.vcpuId(), space, addr, width, AccessDirection.WRITE, value);
            }
            Mapping m = find(space, addr);
            if (m == null) {
                unclaimedAccesses++;
            } else {
                m.device.write(ctx, addr - m.base, width, value);
            }
        } finally {
            lock.unlock();
        }
    }
}
