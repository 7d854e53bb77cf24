package dev.ferry.vmm.trap;

import dev.ferry.vmm.bus.AddressSpace;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The trap log: every device-register access made while virtualization is ON, in order.
 * Listeners get every record as it is appended; the log itself keeps the most recent {@code capacity}
 * records for inspection and counts what it had to let go of.
 */
public final class TrapLog {
    public static final int DEFAULT_CAPACITY = 1 << 16;

    private final TrapRecord[] ring;
    private final List<TrapListener> listeners = new CopyOnWriteArrayList<>();
    private long nextSeq;
    private long onSwitches;

    public TrapLog() {
        this(DEFAULT_CAPACITY);
    }

    public TrapLog(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.ring = new TrapRecord[capacity];
    }

    public void addListener(TrapListener listener) {
        listeners.add(listener);
    }

    public void removeListener(TrapListener listener) {
        listeners.remove(listener);
    }

    /** Appends one access; called by the bus with its lock held, so order is the devices' order. */
    public synchronized TrapRecord append(int vcpu, AddressSpace space, long address, int width,
                                          AccessDirection direction, long value) {
        TrapRecord r = new TrapRecord(nextSeq, vcpu, space, address, width, direction, value, System.nanoTime());
        ring[(int) (nextSeq % ring.length)] = r;
        nextSeq++;
        for (TrapListener l : listeners) {
            l.onAccess(r);
        }
        return r;
    }

    /** Tells listeners virtualization changed; the bus calls this between accesses. */
    public synchronized void markVirtualization(boolean on) {
        if (on) {
            onSwitches++;
        }
        for (TrapListener l : listeners) {
            if (on) {
                l.onVirtualizationOn(nextSeq);
            } else {
                l.onVirtualizationOff(nextSeq);
            }
        }
    }

    /** The sequence number the next record will get; equals the number of records ever appended. */
    public synchronized long nextSeq() {
        return nextSeq;
    }

    /** How many times virtualization was switched ON. */
    public synchronized long onSwitches() {
        return onSwitches;
    }

    /** Records no longer kept (listeners did get them). */
    public synchronized long dropped() {
        return Math.max(0, nextSeq - ring.length);
    }

    /** The kept records with {@code seq >= fromSeq}, in order. */
    public synchronized List<TrapRecord> since(long fromSeq) {
        long first = Math.max(fromSeq, Math.max(0, nextSeq - ring.length));
        List<TrapRecord> out = new ArrayList<>((int) Math.max(0, nextSeq - first));
        for (long s = first; s < nextSeq; s++) {
            out.add(ring[(int) (s % ring.length)]);
        }
        return out;
    }
}
