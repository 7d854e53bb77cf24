package dev.ferry.capture.shadow;

import dev.ferry.capture.restore.RegisterAccess;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.spec.DeviceSpec;
import dev.ferry.vmm.trap.TrapRecord;

/**
 * What the hypervisor knows of one device, rebuilt from the register accesses it traps, by the rules of the
 * device's specification. Not a device model: it never answers the guest and never sees the device's internals.
 */
public interface DeviceShadow {
    DeviceSpec spec();

    String name();

    long base();

    /** Applies one trapped access at {@code offset} from the device's base, in log order. */
    void apply(TrapRecord access, long offset);

    /** Virtualization was OFF: forget everything the guest may have changed without us seeing. */
    void forgetAfterGap();

    /** Re-learns what can be learned without side effects, through host reads (vCPUs paused, device quiesced). */
    void resync(RegisterAccess access);

    /** The ordered writes that bring a reset device to this state, with the report of all state. */
    RestorePlan plan();
}
