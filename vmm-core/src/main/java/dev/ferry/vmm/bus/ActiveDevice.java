package dev.ferry.vmm.bus;

import java.util.List;

/**
 * A device that works on its own thread (it has requests in flight), as opposed to one that only reacts to
 * register accesses. The VM quiesces it before its state is read and when the VM is paused.
 */
public interface ActiveDevice extends BusDevice, AutoCloseable {
    /** Registers that may bypass the VMM while virtualization is OFF. */
    List<Doorbell> doorbells();

    /** Completes every request already taken and takes no new one until {@link #resumeIo()}. */
    void quiesce();

    void resumeIo();

    @Override
    void close();
}
