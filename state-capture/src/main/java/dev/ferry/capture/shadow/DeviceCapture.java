package dev.ferry.capture.shadow;

import dev.ferry.capture.restore.RegisterAccess;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.trap.TrapListener;
import dev.ferry.vmm.trap.TrapLog;
import dev.ferry.vmm.trap.TrapRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps a shadow of every device from the trap log. It learns the device constants and current values when it is
 * attached; while virtualization is ON it applies each trapped access in order; when virtualization comes back ON
 * after an OFF period, it forgets what the guest may have changed unseen and reads the devices back (the VM has
 * paused the vCPUs and quiesced the devices for the switch).
 */
public final class DeviceCapture implements TrapListener {
    private final List<DeviceShadow> shadows;
    private final RegisterAccess access;
    private boolean gap;
    private long applied;
    private long resyncs;

    private DeviceCapture(List<DeviceShadow> shadows, RegisterAccess access, boolean trapping) {
        this.shadows = List.copyOf(shadows);
        this.access = access;
        this.gap = !trapping;
    }

    /**
     * Starts shadowing {@code shadows}: reads every device back once, then listens to {@code log}. Call with the
     * vCPUs paused or not started.
     */
    public static DeviceCapture attach(TrapLog log, RegisterAccess access, boolean trapping, List<DeviceShadow> shadows) {
        DeviceCapture c = new DeviceCapture(shadows, access, trapping);
        synchronized (c) {
            for (DeviceShadow s : c.shadows) {
                s.resync(access);
            }
            c.resyncs++;
        }
        log.addListener(c);
        return c;
    }

    @Override
    public synchronized void onAccess(TrapRecord r) {
        for (DeviceShadow s : shadows) {
            long offset = r.address() - s.base();
            if (r.space() == s.spec().space() && offset >= 0 && offset < s.spec().size()) {
                s.apply(r, offset);
                applied++;
                return;
            }
        }
    }

    @Override
    public synchronized void onVirtualizationOn(long nextSeq) {
        if (gap) {
            for (DeviceShadow s : shadows) {
                s.forgetAfterGap();
                s.resync(access);
            }
            resyncs++;
            gap = false;
        }
    }

    @Override
    public synchronized void onVirtualizationOff(long nextSeq) {
        gap = true;
    }

    /** Restore plans for every device, from what is known now. */
    public synchronized List<RestorePlan> plans() {
        List<RestorePlan> out = new ArrayList<>();
        for (DeviceShadow s : shadows) {
            out.add(s.plan());
        }
        return out;
    }

    public synchronized DeviceShadow shadow(String name) {
        return shadows.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no shadowed device " + name));
    }

    public synchronized long appliedAccesses() {
        return applied;
    }

    public synchronized long resyncs() {
        return resyncs;
    }

    /** A shadow for the device kind at {@code space}/{@code base}. */
    public static boolean covers(DeviceShadow s, AddressSpace space, long address) {
        long off = address - s.base();
        return s.spec().space() == space && off >= 0 && off < s.spec().size();
    }
}
