package dev.ferry.vmm.devices.virtio;

import static dev.ferry.vmm.devices.virtio.VirtioMmioRegisters.*;

import dev.ferry.vmm.bus.AccessContext;
import dev.ferry.vmm.bus.ActiveDevice;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.bus.Doorbell;
import dev.ferry.vmm.kvm.EventFd;
import dev.ferry.vmm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A virtio device on the MMIO transport (version 2). Register accesses come from the bus; requests are served on
 * the device's own thread, woken by the QueueNotify doorbell (an eventfd KVM signals directly while virtualization
 * is OFF, and this class signals while ON). The device completes every request it takes before it stops or
 * quiesces, and takes its position in the available ring from the used ring when a queue becomes ready: so its
 * whole state is in its registers and in guest memory.
 *
 * <p>All registers the specification marks write-only read back their last written value here, so a hypervisor
 * that missed the writes can still learn them (this is what state capture relies on after an OFF period).
 */
public final class VirtioMmioDevice implements ActiveDevice {
    private static final Logger LOG = LoggerFactory.getLogger(VirtioMmioDevice.class);

    private final String name;
    private final long base;
    private final VirtioBackend backend;
    private final GuestMemory memory;
    private final EventFd notify = new EventFd();
    private final Thread worker;
    private final QueueState[] queues;
    private final Virtqueue[] live;
    private int status;
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long driverFeatures;
    private int queueSel;
    private int interruptStatus;
    private int configGeneration;
    private boolean quiesced;
    private volatile boolean closing;
    private long served;

    public VirtioMmioDevice(String name, long base, VirtioBackend backend, GuestMemory memory) {
        this.name = name;
        this.base = base;
        this.backend = backend;
        this.memory = memory;
        this.queues = new QueueState[backend.queueCount()];
        this.live = new Virtqueue[backend.queueCount()];
        java.util.Arrays.fill(queues, QueueState.reset());
        this.worker = new Thread(this::serveLoop, name + "-io");
        worker.setDaemon(true);
        worker.start();
    }

    @Override
    public String name() {
        return name;
    }

    /** The device behind the transport (a {@code VirtioBlk}, say). */
    public VirtioBackend backend() {
        return backend;
    }

    public long base() {
        return base;
    }

    private long offeredFeatures() {
        return backend.features() | F_VERSION_1;
    }

    @Override
    public synchronized long read(AccessContext ctx, long offset, int width) {
        if (offset >= CONFIG) {
            return backend.readConfig((int) (offset - CONFIG), width);
        }
        if (width != 4 || (offset & 3) != 0) {
            return width >= 8 ? -1L : (1L << (8 * width)) - 1;
        }
        QueueState q = queueSel < queues.length ? queues[queueSel] : null;
        return 0xFFFFFFFFL & switch ((int) offset) {
            case MAGIC_VALUE -> MAGIC;
            case VERSION -> TRANSPORT_VERSION;
            case DEVICE_ID -> backend.deviceId();
            case VENDOR_ID -> VENDOR;
            case DEVICE_FEATURES -> deviceFeaturesSel < 2 ? (int) (offeredFeatures() >>> (32 * deviceFeaturesSel)) : 0;
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel;
            case DRIVER_FEATURES -> driverFeaturesSel < 2 ? (int) (driverFeatures >>> (32 * driverFeaturesSel)) : 0;
            case DRIVER_FEATURES_SEL -> driverFeaturesSel;
            case QUEUE_SEL -> queueSel;
            case QUEUE_NUM_MAX -> q == null ? 0 : backend.queueMaxSize();
            case QUEUE_NUM -> q == null ? 0 : q.size();
            case QUEUE_READY -> q != null && q.ready() ? 1 : 0;
            case INTERRUPT_STATUS -> interruptStatus;
            case STATUS -> status;
            case QUEUE_DESC_LOW -> q == null ? 0 : (int) q.desc();
            case QUEUE_DESC_HIGH -> q == null ? 0 : (int) (q.desc() >>> 32);
            case QUEUE_DRIVER_LOW -> q == null ? 0 : (int) q.driver();
            case QUEUE_DRIVER_HIGH -> q == null ? 0 : (int) (q.driver() >>> 32);
            case QUEUE_DEVICE_LOW -> q == null ? 0 : (int) q.device();
            case QUEUE_DEVICE_HIGH -> q == null ? 0 : (int) (q.device() >>> 32);
            case CONFIG_GENERATION -> configGeneration;
            default -> 0;
        };
    }

    @Override
    public synchronized void write(AccessContext ctx, long offset, int width, long value) {
        if (offset >= CONFIG || width != 4 || (offset & 3) != 0) {
            return;
        }
        int v = (int) value;
        QueueState q = queueSel < queues.length ? queues[queueSel] : null;
        boolean queueWritable = q != null && !q.ready();
        switch ((int) offset) {
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel = v;
            case DRIVER_FEATURES -> {
                if (driverFeaturesSel < 2 && (status & STATUS_FEATURES_OK) == 0) {
                    int shift = 32 * driverFeaturesSel;
                    driverFeatures = (driverFeatures & ~(0xFFFFFFFFL << shift)) | ((value & 0xFFFFFFFFL) << shift);
                }
            }
            case DRIVER_FEATURES_SEL -> driverFeaturesSel = v;
            case QUEUE_SEL -> queueSel = v;
            case QUEUE_NUM -> {
                if (queueWritable && v > 0 && v <= backend.queueMaxSize() && Integer.bitCount(v) == 1) {
                    setQueue(new QueueState(v, false, q.desc(), q.driver(), q.device(), 0));
                }
            }
            case QUEUE_READY -> {
                if (q != null) {
                    setReady(v == 1);
                }
            }
            case QUEUE_NOTIFY -> notify.signal();
            case INTERRUPT_ACK -> interruptStatus &= ~v;
            case STATUS -> writeStatus(v);
            case QUEUE_DESC_LOW -> setAddress(queueWritable, 0, v, false);
            case QUEUE_DESC_HIGH -> setAddress(queueWritable, 0, v, true);
            case QUEUE_DRIVER_LOW -> setAddress(queueWritable, 1, v, false);
            case QUEUE_DRIVER_HIGH -> setAddress(queueWritable, 1, v, true);
            case QUEUE_DEVICE_LOW -> setAddress(queueWritable, 2, v, false);
            case QUEUE_DEVICE_HIGH -> setAddress(queueWritable, 2, v, true);
            default -> { }
        }
    }

    private void setQueue(QueueState q) {
        queues[queueSel] = q;
    }

    private void setAddress(boolean writable, int which, int v, boolean high) {
        if (!writable) {
            return;
        }
        QueueState q = queues[queueSel];
        long[] a = {q.desc(), q.driver(), q.device()};
        a[which] = high ? (a[which] & 0xFFFFFFFFL) | ((long) v << 32) : (a[which] & ~0xFFFFFFFFL) | (v & 0xFFFFFFFFL);
        setQueue(new QueueState(q.size(), false, a[0], a[1], a[2], 0));
    }

    private void setReady(boolean ready) {
        QueueState q = queues[queueSel];
        if (ready == q.ready()) {
            return;
        }
        if (ready) {
            if (q.size() == 0) {
                return;
            }
            Virtqueue vq = new Virtqueue(memory, q);
            live[queueSel] = vq;
            setQueue(new QueueState(q.size(), true, q.desc(), q.driver(), q.device(), vq.nextAvail()));
            notify.signal();
        } else {
            live[queueSel] = null;
            setQueue(new QueueState(q.size(), false, q.desc(), q.driver(), q.device(), 0));
        }
    }

    private void writeStatus(int v) {
        if (v == 0) {
            reset();
            return;
        }
        int next = v & 0xFF;
        if ((next & STATUS_FEATURES_OK) != 0 && (status & STATUS_FEATURES_OK) == 0) {
            boolean acceptable = (driverFeatures & ~offeredFeatures()) == 0 && (driverFeatures & F_VERSION_1) != 0;
            if (!acceptable) {
                next &= ~STATUS_FEATURES_OK;
            }
        }
        boolean driverNowOk = (next & STATUS_DRIVER_OK) != 0 && (status & STATUS_DRIVER_OK) == 0;
        status = next | (status & STATUS_NEEDS_RESET);
        if (driverNowOk) {
            notify.signal();
        }
    }

    private void reset() {
        status = 0;
        deviceFeaturesSel = 0;
        driverFeaturesSel = 0;
        driverFeatures = 0;
        queueSel = 0;
        interruptStatus = 0;
        java.util.Arrays.fill(queues, QueueState.reset());
        java.util.Arrays.fill(live, null);
    }

    private void serveLoop() {
        while (!closing) {
            notify.await();
            if (closing) {
                return;
            }
            serveAvailable();
        }
    }

    /** Serves every available request of every ready queue; holds the device for the whole batch. */
    private synchronized void serveAvailable() {
        if (quiesced || (status & STATUS_DRIVER_OK) == 0 || (status & STATUS_NEEDS_RESET) != 0) {
            return;
        }
        try {
            for (int i = 0; i < live.length; i++) {
                Virtqueue vq = live[i];
                if (vq == null) {
                    continue;
                }
                DescriptorChain chain;
                while ((chain = vq.pop()) != null) {
                    int written = backend.serve(i, chain);
                    vq.push(chain.head(), written);
                    interruptStatus |= INTERRUPT_USED_BUFFER;
                    served++;
                }
                QueueState q = queues[i];
                queues[i] = new QueueState(q.size(), q.ready(), q.desc(), q.driver(), q.device(), vq.nextAvail());
            }
        } catch (VirtioException | IllegalArgumentException e) {
            LOG.warn("{}: {}; device needs reset", name, e.getMessage());
            status |= STATUS_NEEDS_RESET;
        }
    }

    public synchronized long requestsServed() {
        return served;
    }

    @Override
    public List<Doorbell> doorbells() {
        return List.of(new Doorbell(AddressSpace.MMIO, base + QUEUE_NOTIFY, 4, notify));
    }

    @Override
    public synchronized void quiesce() {
        quiesced = true;
    }

    @Override
    public void resumeIo() {
        synchronized (this) {
            quiesced = false;
        }
        notify.signal();
    }

    /** The device's true internal state; for tests and for checking a restored device. */
    public synchronized VirtioMmioState state() {
        return new VirtioMmioState(status, deviceFeaturesSel, driverFeaturesSel, driverFeatures, queueSel,
                new ArrayList<>(List.of(queues)), interruptStatus, configGeneration);
    }

    @Override
    public void close() {
        closing = true;
        notify.signal();
        try {
            worker.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        backend.close();
        notify.close();
    }
}
