package dev.ferry.vmm.trap;

/** Receives trapped accesses in log order, on the vCPU thread that made them, while the bus is held. */
public interface TrapListener {
    void onAccess(TrapRecord record);

    /** Virtualization switched ON; the next record will carry {@code nextSeq}. Accesses before it were not seen. */
    default void onVirtualizationOn(long nextSeq) {}

    /** Virtualization switched OFF; accesses from now on are not seen until the next ON. */
    default void onVirtualizationOff(long nextSeq) {}
}
