package dev.ferry.vmm;

import dev.ferry.vmm.bus.ActiveDevice;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.bus.BusDevice;
import dev.ferry.vmm.bus.DeviceBus;
import dev.ferry.vmm.bus.Doorbell;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.devices.platform.PlatformDevice;
import dev.ferry.vmm.devices.uart.Uart16550;
import dev.ferry.vmm.kvm.KvmVm;
import dev.ferry.vmm.memory.DirtyLog;
import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import dev.ferry.vmm.state.MachineState;
import dev.ferry.vmm.state.StateCapture;
import dev.ferry.vmm.state.VcpuState;
import dev.ferry.vmm.trap.TrapLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A virtual machine: guest RAM, vCPUs, the device bus with its devices, and the trap and dirty logs.
 * Made by {@link Hypervisor#boot} or {@link Hypervisor#restore}; started with {@link #start()}.
 * Pause, resume, virtualization switches and state capture may be called from any thread.
 */
public final class Vm implements AutoCloseable {
    private static final long PAUSE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long JOIN_TIMEOUT_MILLIS = 5_000;

    private final String name;
    private final Hypervisor hypervisor;
    private final KvmVm kvm;
    private final GuestMemory memory;
    private final DeviceBus bus;
    private final TrapLog trapLog;
    private final DirtyLog dirtyLog;
    private final ConsoleOutput console;
    private final Uart16550 uart;
    private final PlatformDevice platform;
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<ActiveDevice> activeDevices = new ArrayList<>();
    private boolean doorbellsAssigned;
    private final CompletableFuture<VmResult> result = new CompletableFuture<>();
    private final Object control = new Object();
    private boolean started;
    private boolean paused;
    private boolean closed;
    private Virtualization virtualization = Virtualization.OFF;
    private long tscKhz;

    Vm(String name, Hypervisor hypervisor, KvmVm kvm, GuestMemory memory, ConsoleOutput console) {
        this.name = name;
        this.hypervisor = hypervisor;
        this.kvm = kvm;
        this.memory = memory;
        this.console = console;
        this.trapLog = new TrapLog();
        this.bus = new DeviceBus(trapLog);
        this.dirtyLog = new DirtyLog(kvm, memory);
        this.uart = new Uart16550(console);
        this.platform = new PlatformDevice();
        bus.register(AddressSpace.PIO, Uart16550.COM1, Uart16550.REGISTER_COUNT, uart);
        bus.register(AddressSpace.PIO, PlatformDevice.BASE, PlatformDevice.LENGTH, platform);
    }

    void addVcpu(Vcpu vcpu) {
        vcpus.add(vcpu);
        if (tscKhz == 0) {
            tscKhz = vcpu.kvm().getTscKhz();
        }
    }

    /** The guest's TSC frequency in kHz. */
    public long tscKhz() {
        return tscKhz;
    }

    KvmVm kvm() {
        return kvm;
    }

    DirtyLog dirtyLogForSetup() {
        return dirtyLog;
    }

    DeviceBus busInternal() {
        return bus;
    }

    public String name() {
        return name;
    }

    public GuestMemory memory() {
        return memory;
    }

    public ConsoleOutput console() {
        return console;
    }

    public Uart16550 uart() {
        return uart;
    }

    public PlatformDevice platform() {
        return platform;
    }

    public TrapLog trapLog() {
        return trapLog;
    }

    public List<Vcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    /** Attaches another device to the bus; only before {@link #start()}. */
    public void attach(AddressSpace space, long base, long length, BusDevice device) {
        synchronized (control) {
            if (started) {
                throw new IllegalStateException("devices are attached before the VM starts");
            }
            bus.register(space, base, length, device);
        }
    }

    /**
     * Attaches a device that serves requests on its own thread; the VM quiesces it when paused, closes it with the
     * VM, and lets its doorbells bypass the VMM while virtualization is OFF. Only before {@link #start()}.
     */
    public void attach(AddressSpace space, long base, long length, ActiveDevice device) {
        synchronized (control) {
            attach(space, base, length, (BusDevice) device);
            activeDevices.add(device);
        }
    }

    public List<ActiveDevice> activeDevices() {
        synchronized (control) {
            return List.copyOf(activeDevices);
        }
    }

    /** The VM's virtio-blk device, if it has a disk. */
    public java.util.Optional<dev.ferry.vmm.devices.virtio.blk.VirtioBlk> disk() {
        for (ActiveDevice d : activeDevices()) {
            if (d instanceof dev.ferry.vmm.devices.virtio.VirtioMmioDevice m
                    && m.backend() instanceof dev.ferry.vmm.devices.virtio.blk.VirtioBlk blk) {
                return java.util.Optional.of(blk);
            }
        }
        return java.util.Optional.empty();
    }

    /** A register read by the host (not the guest): reaches the device, never trap-logged. */
    public long hostRead(AddressSpace space, long address, int width) {
        return bus.hostRead(space, address, width);
    }

    /** A register write by the host (not the guest): reaches the device, never trap-logged. */
    public void hostWrite(AddressSpace space, long address, int width, long value) {
        bus.hostWrite(space, address, width, value);
    }

    private void setDoorbells(boolean assigned) {
        if (assigned == doorbellsAssigned) {
            return;
        }
        for (ActiveDevice d : activeDevices) {
            for (Doorbell b : d.doorbells()) {
                kvm.ioeventfd(b.address(), b.width(), b.eventFd(), b.space() == AddressSpace.PIO, !assigned);
            }
        }
        doorbellsAssigned = assigned;
    }

    /** Starts every vCPU thread. */
    public void start() {
        start(false);
    }

    /** Starts every vCPU thread, already paused when {@code paused} (for a restore that must wait). */
    public void start(boolean paused) {
        synchronized (control) {
            if (started) {
                throw new IllegalStateException("VM " + name + " already started");
            }
            started = true;
            this.paused = paused;
            setDoorbells(virtualization == Virtualization.OFF);
            if (paused) {
                activeDevices.forEach(ActiveDevice::quiesce);
            }
            for (Vcpu v : vcpus) {
                v.start(name, paused);
            }
            if (paused) {
                awaitAllPaused();
            }
        }
    }

    public boolean isRunning() {
        return started && !result.isDone();
    }

    public boolean isPaused() {
        synchronized (control) {
            return paused;
        }
    }

    /** Stops every vCPU out of KVM_RUN and parks it; returns how long that took, in nanoseconds. */
    public long pause() {
        synchronized (control) {
            requireStarted();
            if (paused) {
                return 0;
            }
            long t0 = System.nanoTime();
            for (Vcpu v : vcpus) {
                v.requestPause();
            }
            awaitAllPaused();
            activeDevices.forEach(ActiveDevice::quiesce);
            paused = true;
            return System.nanoTime() - t0;
        }
    }

    private void awaitAllPaused() {
        for (Vcpu v : vcpus) {
            v.awaitPaused(PAUSE_TIMEOUT_NANOS);
        }
    }

    public void resume() {
        synchronized (control) {
            requireStarted();
            if (!paused) {
                return;
            }
            paused = false;
            activeDevices.forEach(ActiveDevice::resumeIo);
            for (Vcpu v : vcpus) {
                v.resume();
            }
        }
    }

    private void requireStarted() {
        if (!started) {
            throw new IllegalStateException("VM " + name + " has not started");
        }
        if (closed) {
            throw new IllegalStateException("VM " + name + " is closed");
        }
    }

    public Virtualization virtualization() {
        synchronized (control) {
            return virtualization;
        }
    }

    /**
     * Switches virtualization ON (dirty logging on every slot, every register access trapped into the
     * trap log) or OFF, pausing the guest only for the switch itself.
     */
    public SwitchReport setVirtualization(Virtualization mode) {
        synchronized (control) {
            if (mode == virtualization) {
                return new SwitchReport(mode, 0);
            }
            boolean wasPaused = paused || !started;
            long t0 = System.nanoTime();
            if (!wasPaused) {
                for (Vcpu v : vcpus) {
                    v.requestPause();
                }
                awaitAllPaused();
                activeDevices.forEach(ActiveDevice::quiesce);
            }
            boolean on = mode == Virtualization.ON;
            dirtyLog.setEnabled(on);
            bus.setTrapping(on);
            if (started) {
                setDoorbells(!on);
            }
            virtualization = mode;
            if (!wasPaused) {
                activeDevices.forEach(ActiveDevice::resumeIo);
                for (Vcpu v : vcpus) {
                    v.resume();
                }
            }
            return new SwitchReport(mode, System.nanoTime() - t0);
        }
    }

    /** A bitmap sized for this VM's RAM, for {@link #fetchDirtyPages}. */
    public PageBitmap newPageBitmap() {
        return new PageBitmap(memory.pageCount());
    }

    /** Adds the pages dirtied since the last fetch (or since virtualization went ON) to {@code into}. */
    public long fetchDirtyPages(PageBitmap into) {
        synchronized (control) {
            return dirtyLog.fetchAndClear(into);
        }
    }

    /**
     * Adds the pages the guest wrote since the last {@link #fetchDirtyPages} to {@code into}, leaving them dirty:
     * the next fetch returns them too.
     */
    public long peekDirtyPages(PageBitmap into) {
        synchronized (control) {
            return dirtyLog.peek(into);
        }
    }

    /** Captures the KVM-side state of every vCPU and of the VM. The VM must be paused. */
    public MachineState captureMachineState() {
        synchronized (control) {
            if (!paused) {
                throw new IllegalStateException("pause VM " + name + " before capturing its state");
            }
            return capture();
        }
    }

    /** Captures the state of a VM that has not started (a restored one, for checking what was set). */
    public MachineState captureMachineStateBeforeStart() {
        synchronized (control) {
            if (started) {
                throw new IllegalStateException("VM " + name + " has started; pause it and use captureMachineState");
            }
            return capture();
        }
    }

    private MachineState capture() {
        List<VcpuState> states = new ArrayList<>();
        int[] msrs = hypervisor.savableMsrs();
        for (Vcpu v : vcpus) {
            states.add(StateCapture.capture(v.kvm(), msrs));
        }
        return new MachineState(StateCapture.capture(kvm), states);
    }

    /** Sets the KVM state of the VM and every vCPU from {@code state}; only before {@link #start()}. */
    public void restoreMachineState(MachineState state) {
        synchronized (control) {
            if (started) {
                throw new IllegalStateException("VM " + name + " has started");
            }
            if (state.vcpus().size() != vcpus.size()) {
                throw new IllegalArgumentException("state has " + state.vcpus().size() + " vCPUs; this VM has "
                        + vcpus.size());
            }
            StateCapture.restore(kvm, state.vm());
            for (VcpuState s : state.vcpus()) {
                StateCapture.restore(vcpus.get(s.id()).kvm(), s);
            }
        }
    }

    /**
     * Moves every vCPU's TSC forward by {@code cycles}, so that a guest restored after a pause sees the real time that
     * passed (a live migration's downtime) rather than a clock that stood still. Only before {@link #start()}.
     */
    public void advanceTscBeforeStart(long cycles) {
        synchronized (control) {
            if (started) {
                throw new IllegalStateException("VM " + name + " has started");
            }
            for (Vcpu v : vcpus) {
                var tsc = v.kvm().getMsrs(new int[] {dev.ferry.vmm.state.VcpuState.MSR_IA32_TSC});
                v.kvm().setMsrs(List.of(new dev.ferry.vmm.kvm.MsrEntry(dev.ferry.vmm.state.VcpuState.MSR_IA32_TSC,
                        tsc.get(0).value() + cycles)));
            }
        }
    }

    /** Ends the VM with {@code r} unless it already ended; asks every vCPU to stop (does not wait). */
    void finish(VmResult r) {
        if (result.complete(r)) {
            for (Vcpu v : vcpus) {
                v.requestStop();
            }
        }
    }

    /** The VM's end, once it ends. */
    public CompletableFuture<VmResult> result() {
        return result;
    }

    /** Waits for the VM to end on its own; returns empty after {@code timeout}. */
    public java.util.Optional<VmResult> awaitResult(Duration timeout) throws InterruptedException {
        try {
            return java.util.Optional.of(result.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            return java.util.Optional.empty();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Stops the guest if it still runs, waits for every vCPU thread, and returns how the VM ended. */
    public VmResult stop() {
        finish(new VmResult.Stopped());
        synchronized (control) {
            for (Vcpu v : vcpus) {
                v.resume();
            }
        }
        for (Vcpu v : vcpus) {
            try {
                v.join(JOIN_TIMEOUT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return result.join();
    }

    /** Stops the VM and releases its vCPUs, VM file descriptor and guest RAM. */
    @Override
    public void close() {
        synchronized (control) {
            if (closed) {
                return;
            }
        }
        stop();
        // a checkpoint being written on another thread still reads guest RAM and the vCPU state: wait for it
        // (without the control lock, which it needs), then release everything
        memory.retire();
        synchronized (control) {
            closed = true;
            for (ActiveDevice d : activeDevices) {
                d.close();
            }
            for (Vcpu v : vcpus) {
                v.kvm().close();
            }
            kvm.close();
            memory.close();
        }
    }
}
