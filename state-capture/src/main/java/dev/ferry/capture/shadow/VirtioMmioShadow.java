package dev.ferry.capture.shadow;

import static dev.ferry.vmm.devices.virtio.VirtioMmioRegisters.*;

import dev.ferry.capture.restore.Handling;
import dev.ferry.capture.restore.RegisterAccess;
import dev.ferry.capture.restore.RegisterWrite;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.restore.StateItem;
import dev.ferry.capture.spec.DeviceSpec;
import dev.ferry.capture.spec.VirtioMmioBlkSpec;
import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.trap.AccessDirection;
import dev.ferry.vmm.trap.TrapRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The hypervisor's knowledge of a virtio-mmio device, from trapped accesses and the rules of the transport
 * (virtio 1.2, 4.2.2). Device constants (features offered, queue sizes) are read once at attach; everything a
 * driver sets is read back after an OFF period; the queues' positions come from guest memory.
 */
public final class VirtioMmioShadow extends ShadowBase {
    /** One queue's driver-set registers. */
    static final class Queue {
        final Reg num = new Reg(0);
        final Reg ready = new Reg(0);
        final Reg desc = new Reg(0);
        final Reg driver = new Reg(0);
        final Reg device = new Reg(0);

        List<Reg> all() {
            return List.of(num, ready, desc, driver, device);
        }
    }

    private final GuestMemory memory;
    final Reg status = new Reg(0);
    final Reg deviceFeaturesSel = new Reg(0);
    final Reg driverFeaturesSel = new Reg(0);
    final Reg driverFeaturesLo = new Reg(0);
    final Reg driverFeaturesHi = new Reg(0);
    final Reg queueSel = new Reg(0);
    final TreeMap<Integer, Queue> queues = new TreeMap<>();
    private long offeredFeatures = -1;
    private int[] queueNumMax = new int[0];

    public VirtioMmioShadow(String name, long base, GuestMemory memory) {
        super(VirtioMmioBlkSpec.SPEC, name, base);
        this.memory = memory;
    }

    private Queue selected() {
        if (!queueSel.known || queueSel.value < 0 || queueSel.value >= queueNumMax.length) {
            return null;
        }
        return queues.computeIfAbsent((int) queueSel.value, q -> new Queue());
    }

    private long driverFeatures() {
        return (driverFeaturesHi.value << 32) | (driverFeaturesLo.value & 0xFFFFFFFFL);
    }

    @Override
    public void apply(TrapRecord r, long offset) {
        if (offset >= CONFIG || r.width() != 4) {
            return;
        }
        long v = r.value() & 0xFFFFFFFFL;
        if (r.direction() == AccessDirection.READ) {
            learnFromRead((int) offset, v);
            return;
        }
        Queue q = selected();
        boolean queueWritable = q != null && q.ready.known && q.ready.value == 0;
        switch ((int) offset) {
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel.set(v);
            case DRIVER_FEATURES_SEL -> driverFeaturesSel.set(v);
            case DRIVER_FEATURES -> {
                if (status.known && (status.value & STATUS_FEATURES_OK) == 0 && driverFeaturesSel.known) {
                    if (driverFeaturesSel.value == 0) {
                        driverFeaturesLo.set(v);
                    } else if (driverFeaturesSel.value == 1) {
                        driverFeaturesHi.set(v);
                    }
                }
            }
            case QUEUE_SEL -> queueSel.set(v);
            case QUEUE_NUM -> {
                if (queueWritable && v > 0 && v <= queueNumMax[(int) queueSel.value] && Long.bitCount(v) == 1) {
                    q.num.set(v);
                }
            }
            case QUEUE_READY -> {
                if (q != null && (v != 1 || (q.num.known && q.num.value > 0))) {
                    q.ready.set(v == 1 ? 1 : 0);
                }
            }
            case QUEUE_DESC_LOW, QUEUE_DESC_HIGH -> setAddress(queueWritable, q == null ? null : q.desc, offset, v);
            case QUEUE_DRIVER_LOW, QUEUE_DRIVER_HIGH -> setAddress(queueWritable, q == null ? null : q.driver, offset, v);
            case QUEUE_DEVICE_LOW, QUEUE_DEVICE_HIGH -> setAddress(queueWritable, q == null ? null : q.device, offset, v);
            case STATUS -> writeStatus(v);
            default -> { }
        }
    }

    private static void setAddress(boolean writable, Reg reg, long offset, long v) {
        if (!writable) {
            return;
        }
        boolean high = (offset & 4) != 0;
        reg.set(high ? (reg.value & 0xFFFFFFFFL) | (v << 32) : (reg.value & ~0xFFFFFFFFL) | v);
    }

    private void writeStatus(long v) {
        if (v == 0) {
            resetAll();
            return;
        }
        long next = v & 0xFF;
        if ((next & STATUS_FEATURES_OK) != 0 && status.known && (status.value & STATUS_FEATURES_OK) == 0) {
            long f = driverFeatures();
            boolean acceptable = offeredFeatures >= 0 && (f & ~offeredFeatures) == 0 && (f & F_VERSION_1) != 0;
            if (!acceptable) {
                next &= ~STATUS_FEATURES_OK;
            }
        }
        status.set(next);
    }

    private void resetAll() {
        for (Reg r : List.of(status, deviceFeaturesSel, driverFeaturesSel, driverFeaturesLo, driverFeaturesHi, queueSel)) {
            r.reset();
        }
        queues.clear();
    }

    private void learnFromRead(int offset, long v) {
        Queue q = selected();
        switch (offset) {
            case STATUS -> status.set(v);
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel.set(v);
            case DRIVER_FEATURES_SEL -> driverFeaturesSel.set(v);
            case QUEUE_SEL -> queueSel.set(v);
            case DRIVER_FEATURES -> {
                if (driverFeaturesSel.known && driverFeaturesSel.value == 0) {
                    driverFeaturesLo.set(v);
                } else if (driverFeaturesSel.known && driverFeaturesSel.value == 1) {
                    driverFeaturesHi.set(v);
                }
            }
            case QUEUE_NUM -> {
                if (q != null) {
                    q.num.set(v);
                }
            }
            case QUEUE_READY -> {
                if (q != null) {
                    q.ready.set(v);
                }
            }
            default -> { }
        }
    }

    @Override
    public void forgetAfterGap() {
        for (Reg r : List.of(status, deviceFeaturesSel, driverFeaturesSel, driverFeaturesLo, driverFeaturesHi, queueSel)) {
            r.forget();
        }
        queues.values().forEach(q -> q.all().forEach(Reg::forget));
    }

    @Override
    public void resync(RegisterAccess a) {
        var space = spec().space();
        long dfs = a.read(space, base + DEVICE_FEATURES_SEL, 4);
        long drs = a.read(space, base + DRIVER_FEATURES_SEL, 4);
        long qs = a.read(space, base + QUEUE_SEL, 4);
        a.write(space, base + DEVICE_FEATURES_SEL, 4, 0);
        long offeredLo = a.read(space, base + DEVICE_FEATURES, 4);
        a.write(space, base + DEVICE_FEATURES_SEL, 4, 1);
        offeredFeatures = (a.read(space, base + DEVICE_FEATURES, 4) << 32) | offeredLo;
        a.write(space, base + DRIVER_FEATURES_SEL, 4, 0);
        driverFeaturesLo.setReadBack(a.read(space, base + DRIVER_FEATURES, 4));
        a.write(space, base + DRIVER_FEATURES_SEL, 4, 1);
        driverFeaturesHi.setReadBack(a.read(space, base + DRIVER_FEATURES, 4));
        List<Integer> maxes = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            a.write(space, base + QUEUE_SEL, 4, i);
            int max = (int) a.read(space, base + QUEUE_NUM_MAX, 4);
            if (max == 0) {
                break;
            }
            maxes.add(max);
            Queue q = queues.computeIfAbsent(i, k -> new Queue());
            q.num.setReadBack(a.read(space, base + QUEUE_NUM, 4));
            q.ready.setReadBack(a.read(space, base + QUEUE_READY, 4));
            q.desc.setReadBack(readAddress(a, QUEUE_DESC_LOW));
            q.driver.setReadBack(readAddress(a, QUEUE_DRIVER_LOW));
            q.device.setReadBack(readAddress(a, QUEUE_DEVICE_LOW));
        }
        queueNumMax = maxes.stream().mapToInt(Integer::intValue).toArray();
        queues.keySet().removeIf(k -> k >= queueNumMax.length);
        a.write(space, base + DEVICE_FEATURES_SEL, 4, dfs);
        a.write(space, base + DRIVER_FEATURES_SEL, 4, drs);
        a.write(space, base + QUEUE_SEL, 4, qs);
        deviceFeaturesSel.setReadBack(dfs);
        driverFeaturesSel.setReadBack(drs);
        queueSel.setReadBack(qs);
        status.setReadBack(a.read(space, base + STATUS, 4));
    }

    private long readAddress(RegisterAccess a, int low) {
        var space = spec().space();
        return a.read(space, base + low, 4) | (a.read(space, base + low + 4, 4) << 32);
    }

    @Override
    public RestorePlan plan() {
        List<RegisterWrite> w = new ArrayList<>();
        long s = status.value;
        w.add(new RegisterWrite(STATUS, 4, 0, "Status: reset"));
        if (s != 0) {
            w.add(new RegisterWrite(STATUS, 4, s & STATUS_ACKNOWLEDGE, "Status: ACKNOWLEDGE"));
            w.add(new RegisterWrite(STATUS, 4, s & (STATUS_ACKNOWLEDGE | STATUS_DRIVER), "Status: DRIVER"));
            w.add(new RegisterWrite(DRIVER_FEATURES_SEL, 4, 0, "DriverFeaturesSel 0"));
            w.add(new RegisterWrite(DRIVER_FEATURES, 4, driverFeaturesLo.value, "DriverFeatures[31:0]"));
            w.add(new RegisterWrite(DRIVER_FEATURES_SEL, 4, 1, "DriverFeaturesSel 1"));
            w.add(new RegisterWrite(DRIVER_FEATURES, 4, driverFeaturesHi.value, "DriverFeatures[63:32]"));
            w.add(new RegisterWrite(STATUS, 4, s & (STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK),
                    "Status: FEATURES_OK as accepted"));
        }
        for (var e : queues.entrySet()) {
            Queue q = e.getValue();
            if (q.num.value == 0 && q.desc.value == 0 && q.driver.value == 0 && q.device.value == 0) {
                continue;
            }
            w.add(new RegisterWrite(QUEUE_SEL, 4, e.getKey(), "QueueSel " + e.getKey()));
            w.add(new RegisterWrite(QUEUE_NUM, 4, q.num.value, "QueueNum"));
            addAddress(w, QUEUE_DESC_LOW, q.desc.value, "QueueDesc");
            addAddress(w, QUEUE_DRIVER_LOW, q.driver.value, "QueueDriver");
            addAddress(w, QUEUE_DEVICE_LOW, q.device.value, "QueueDevice");
            if (q.ready.value == 1) {
                w.add(new RegisterWrite(QUEUE_READY, 4, 1, "QueueReady: the device reads used.idx from guest memory"));
            }
        }
        w.add(new RegisterWrite(QUEUE_SEL, 4, queueSel.value, "QueueSel, final"));
        w.add(new RegisterWrite(DEVICE_FEATURES_SEL, 4, deviceFeaturesSel.value, "DeviceFeaturesSel, final"));
        w.add(new RegisterWrite(DRIVER_FEATURES_SEL, 4, driverFeaturesSel.value, "DriverFeaturesSel, final"));
        if (s != 0) {
            w.add(new RegisterWrite(STATUS, 4, s & ~STATUS_NEEDS_RESET, "Status, final (DRIVER_OK last)"));
        }
        return new RestorePlan(name, spec().kind(), spec().space(), base, w, report());
    }

    private static void addAddress(List<RegisterWrite> w, int low, long value, String what) {
        w.add(new RegisterWrite(low, 4, value & 0xFFFFFFFFL, what + "Low"));
        w.add(new RegisterWrite(low + 4, 4, value >>> 32, what + "High"));
    }

    private List<StateItem> report() {
        List<StateItem> out = new ArrayList<>();
        Reports.register(out, name, "Status", status);
        Reports.register(out, name, "DriverFeatures[31:0]", driverFeaturesLo);
        Reports.register(out, name, "DriverFeatures[63:32]", driverFeaturesHi);
        Reports.register(out, name, "DeviceFeaturesSel", deviceFeaturesSel);
        Reports.register(out, name, "DriverFeaturesSel", driverFeaturesSel);
        Reports.register(out, name, "QueueSel", queueSel);
        for (var e : queues.entrySet()) {
            Queue q = e.getValue();
            String p = "queue " + e.getKey() + " ";
            Reports.register(out, name, p + "QueueNum", q.num);
            Reports.register(out, name, p + "QueueReady", q.ready);
            Reports.register(out, name, p + "QueueDesc", q.desc);
            Reports.register(out, name, p + "QueueDriver", q.driver);
            Reports.register(out, name, p + "QueueDevice", q.device);
            if (q.ready.value == 1 && memory != null) {
                int avail = memory.readShort(q.driver.value + 2);
                int used = memory.readShort(q.device.value + 2);
                out.add(new StateItem(name, p + "position", Handling.DERIVED_FROM_MEMORY, String.format(
                        "used.idx=%d is the device's next position; avail.idx=%d: %d request(s) offered and not yet "
                                + "taken, served by the restored device", used, avail, (avail - used) & 0xFFFF)));
            }
        }
        out.add(new StateItem(name, "requests in flight", Handling.QUIESCED,
                "the device completes every request it takes before it is paused"));
        if ((status.value & STATUS_NEEDS_RESET) != 0) {
            out.add(new StateItem(name, "Status NEEDS_RESET", Handling.LOST,
                    "set by the device after a driver error; a restored device starts healthy"));
        }
        out.add(new StateItem(name, "InterruptStatus", Handling.REGENERATED_BY_HARDWARE,
                "set again on the next completion; the guest polls the used ring"));
        out.add(new StateItem(name, "ConfigGeneration", Handling.REGENERATED_BY_HARDWARE,
                "the configuration never changes, so the count starts again at 0"));
        out.add(new StateItem(name, "requests served (statistics)", Handling.LOST, "a counter of the host's"));
        return out;
    }
}
