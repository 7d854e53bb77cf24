package dev.ferry.vmm.devices.virtio;

import dev.ferry.vmm.memory.GuestMemory;
import java.lang.invoke.VarHandle;

/**
 * A split virtqueue in guest memory (virtio 1.2, section 2.7): the device's side. Reads available heads and
 * their descriptor chains, and returns them through the used ring.
 */
final class Virtqueue {
    private static final int DESC_SIZE = 16;
    private static final int F_NEXT = 1;
    private static final int F_WRITE = 2;
    private static final int F_INDIRECT = 4;

    private final GuestMemory memory;
    private final int size;
    private final long desc;
    private final long driver;
    private final long device;
    private final DescriptorChain chain;
    private int nextAvail;

    Virtqueue(GuestMemory memory, QueueState q) {
        this.memory = memory;
        this.size = q.size();
        this.desc = q.desc();
        this.driver = q.driver();
        this.device = q.device();
        this.chain = new DescriptorChain(memory, size);
        this.nextAvail = usedIdx();
    }

    int nextAvail() {
        return nextAvail;
    }

    int usedIdx() {
        return memory.readShort(device + 2);
    }

    private int availIdx() {
        return memory.readShort(driver + 2);
    }

    boolean hasAvailable() {
        return availIdx() != nextAvail;
    }

    /** The next available chain, or null when the driver has offered nothing more. */
    DescriptorChain pop() {
        if (!hasAvailable()) {
            return null;
        }
        VarHandle.acquireFence();
        int head = memory.readShort(driver + 4 + 2L * (nextAvail % size));
        nextAvail = (nextAvail + 1) & 0xFFFF;
        if (head >= size) {
            throw new VirtioException("available ring names descriptor " + head + " of a queue of " + size);
        }
        chain.reset(head);
        int i = head;
        for (int n = 0; ; n++) {
            if (n == size) {
                throw new VirtioException("descriptor chain from " + head + " loops");
            }
            long d = desc + (long) DESC_SIZE * i;
            int flags = memory.readShort(d + 12);
            if ((flags & F_INDIRECT) != 0) {
                throw new VirtioException("indirect descriptors were not negotiated");
            }
            chain.add(memory.readLong(d), memory.readInt(d + 8), (flags & F_WRITE) != 0);
            if ((flags & F_NEXT) == 0) {
                return chain;
            }
            i = memory.readShort(d + 14);
            if (i >= size) {
                throw new VirtioException("descriptor " + i + " beyond a queue of " + size);
            }
        }
    }

    /** Returns a chain to the driver with {@code written} bytes written into it. */
    void push(int head, int written) {
        int used = usedIdx();
        long entry = device + 4 + 8L * (used % size);
        memory.writeInt(entry, head);
        memory.writeInt(entry + 4, written);
        VarHandle.releaseFence();
        memory.writeShort(device + 2, (used + 1) & 0xFFFF);
    }
}
