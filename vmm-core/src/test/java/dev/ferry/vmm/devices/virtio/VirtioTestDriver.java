package dev.ferry.vmm.devices.virtio;

import static dev.ferry.vmm.devices.virtio.VirtioMmioRegisters.*;

import dev.ferry.vmm.bus.AccessContext;
import dev.ferry.vmm.bus.BusDevice;
import dev.ferry.vmm.bus.DeviceBus;
import dev.ferry.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A virtio-mmio block driver written in Java, playing the guest in tests: it lays out one queue in guest memory,
 * negotiates, and submits requests the way a real driver does (descriptors, then the available ring, then notify).
 */
public final class VirtioTestDriver {
    public static final long RING_BASE = 0x200000;
    public static final long BUFFERS = 0x300000;
    private final BusDevice device;
    private final GuestMemory memory;
    private final AccessContext ctx;
    private final int queueSize;
    private final long desc;
    private final long avail;
    private final long used;
    private int availIdx;
    private int usedSeen;

    public VirtioTestDriver(BusDevice device, GuestMemory memory, int queueSize) {
        this(device, memory, queueSize, DeviceBus.HOST);
    }

    public VirtioTestDriver(BusDevice device, GuestMemory memory, int queueSize, AccessContext ctx) {
        this.device = device;
        this.memory = memory;
        this.ctx = ctx;
        this.queueSize = queueSize;
        this.desc = RING_BASE;
        this.avail = RING_BASE + 16L * queueSize;
        this.used = RING_BASE + 0x4000;
    }

    public long read(int reg) {
        return device.read(ctx, reg, 4);
    }

    public void write(int reg, long value) {
        device.write(ctx, reg, 4, value);
    }

    /** Reset, negotiate VERSION_1 (+FLUSH), set up queue 0, DRIVER_OK. Returns the final status. */
    public long initialize() {
        write(STATUS, 0);
        write(STATUS, STATUS_ACKNOWLEDGE);
        write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        write(DEVICE_FEATURES_SEL, 1);
        long hi = read(DEVICE_FEATURES);
        write(DEVICE_FEATURES_SEL, 0);
        long lo = read(DEVICE_FEATURES);
        write(DRIVER_FEATURES_SEL, 0);
        write(DRIVER_FEATURES, lo);
        write(DRIVER_FEATURES_SEL, 1);
        write(DRIVER_FEATURES, hi);
        write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        setUpQueue();
        write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
        return read(STATUS);
    }

    /** Queue 0 on freshly zeroed rings, as a driver allocates them. */
    public void setUpQueue() {
        memory.write(RING_BASE, new byte[0x5000], 0, 0x5000);
        availIdx = 0;
        registerQueue();
    }

    /** Queue 0's registers for rings already in memory (what a restore does). */
    public void registerQueue() {
        write(QUEUE_SEL, 0);
        write(QUEUE_NUM, queueSize);
        write(QUEUE_DESC_LOW, desc);
        write(QUEUE_DESC_HIGH, 0);
        write(QUEUE_DRIVER_LOW, avail);
        write(QUEUE_DRIVER_HIGH, 0);
        write(QUEUE_DEVICE_LOW, used);
        write(QUEUE_DEVICE_HIGH, 0);
        write(QUEUE_READY, 1);
    }

    private void descriptor(int i, long addr, int len, int flags, int next) {
        long d = desc + 16L * i;
        memory.writeLong(d, addr);
        memory.writeInt(d + 8, len);
        memory.writeShort(d + 12, flags);
        memory.writeShort(d + 14, next);
    }

    /** Queues one block request without notifying; returns the address of its status byte. */
    public long enqueue(int type, long sector, int sectors, int slot) {
        int head = slot * 3;
        if (head + 2 >= queueSize) {
            throw new IllegalArgumentException("slot " + slot + " needs descriptors beyond a queue of " + queueSize);
        }
        long hdr = BUFFERS + slot * 0x10000L;
        long data = hdr + 0x100;
        long status = hdr + 0x80;
        ByteBuffer h = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(0).putLong(sector);
        memory.write(hdr, h.array(), 0, 16);
        memory.write(status, new byte[] {(byte) 0xFF}, 0, 1);
        descriptor(head, hdr, 16, 1, head + 1);
        if (sectors > 0) {
            descriptor(head + 1, data, sectors * 512, 1 | (type == 0 ? 2 : 0), head + 2);
            descriptor(head + 2, status, 1, 2, 0);
        } else {
            descriptor(head + 1, status, 1, 2, 0);
        }
        memory.writeShort(avail + 4 + 2L * (availIdx % queueSize), head);
        availIdx = (availIdx + 1) & 0xFFFF;
        memory.writeShort(avail + 2, availIdx);
        return status;
    }

    public static long dataAddress(int slot) {
        return BUFFERS + slot * 0x10000L + 0x100;
    }

    public void notifyQueue() {
        write(QUEUE_NOTIFY, 0);
    }

    /** Waits until the device has returned every queued request; returns false on timeout. */
    public boolean awaitCompletion(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (memory.readShort(used + 2) != availIdx) {
            if (System.currentTimeMillis() > deadline) {
                return false;
            }
            Thread.sleep(1);
        }
        usedSeen = availIdx;
        return true;
    }

    public int usedIdx() {
        return memory.readShort(used + 2);
    }

    public int availIdx() {
        return availIdx;
    }

    public int usedSeen() {
        return usedSeen;
    }
}
