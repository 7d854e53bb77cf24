package dev.ferry.vmm;

import dev.ferry.vmm.bus.AccessContext;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.bus.DeviceBus;
import dev.ferry.vmm.kvm.KvmVcpu;
import dev.ferry.vmm.kvm.Regs;
import dev.ferry.vmm.kvm.Sregs;
import dev.ferry.vmm.kvm.VmExit;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One vCPU and the thread that runs it. The thread loops on KVM_RUN, dispatching port and MMIO exits to the
 * device bus; it parks when the guest idles, when the VM is paused, and ends when the VM stops or the guest
 * cannot continue. Control (pause, resume, stop) comes from other threads and kicks the vCPU out of KVM_RUN.
 */
public final class Vcpu {
    enum RunState { NEW, RUNNING, PAUSED, STOPPED }

    private final KvmVcpu kvm;
    private final DeviceBus bus;
    private final Vm vm;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Context context = new Context();
    private volatile boolean pauseRequested;
    private volatile boolean stopRequested;
    private RunState state = RunState.NEW;
    private Thread thread;
    private long exits;
    private long ioExits;
    private long mmioExits;

    Vcpu(KvmVcpu kvm, DeviceBus bus, Vm vm) {
        this.kvm = kvm;
        this.bus = bus;
        this.vm = vm;
    }

    public int id() {
        return kvm.id();
    }

    KvmVcpu kvm() {
        return kvm;
    }

    /** Exits serviced so far: all, port I/O, MMIO. Read while paused for exact figures. */
    public long exits() {
        return exits;
    }

    public long ioExits() {
        return ioExits;
    }

    public long mmioExits() {
        return mmioExits;
    }

    void start(String vmName, boolean paused) {
        pauseRequested = paused;
        thread = new Thread(this::loop, vmName + "-vcpu" + id());
        thread.setDaemon(true);
        lock.lock();
        try {
            state = RunState.RUNNING;
        } finally {
            lock.unlock();
        }
        thread.start();
    }

    private void loop() {
        kvm.bindCurrentThread();
        try {
            while (!stopRequested) {
                if (pauseRequested) {
                    parkWhilePaused();
                    continue;
                }
                VmExit exit = kvm.run();
                exits++;
                handle(exit);
                if (context.exitCode != null) {
                    vm.finish(new VmResult.Exited(context.exitCode));
                    break;
                }
                if (context.idleNanos != 0) {
                    long n = context.idleNanos;
                    context.idleNanos = 0;
                    idle(n);
                }
            }
        } catch (GuestFailure f) {
            vm.finish(new VmResult.Failed(f.getMessage(), registerDump()));
        } catch (Throwable t) {
            vm.finish(new VmResult.Failed("vCPU " + id() + " thread failed: " + t, registerDump()));
        } finally {
            kvm.unbindThread();
            setState(RunState.STOPPED);
        }
    }

    private void handle(VmExit exit) {
        if (exit instanceof VmExit.IoOut o) {
            ioExits++;
            for (int i = 0; i < o.count(); i++) {
                bus.write(context, AddressSpace.PIO, o.port(), o.size(), kvm.ioValue(i));
            }
        } else if (exit instanceof VmExit.IoIn in) {
            ioExits++;
            for (int i = 0; i < in.count(); i++) {
                kvm.setIoValue(i, bus.read(context, AddressSpace.PIO, in.port(), in.size()));
            }
        } else if (exit instanceof VmExit.MmioWrite w) {
            mmioExits++;
            bus.write(context, AddressSpace.MMIO, w.address(), w.length(), w.value());
        } else if (exit instanceof VmExit.MmioRead r) {
            mmioExits++;
            kvm.completeMmioRead(bus.read(context, AddressSpace.MMIO, r.address(), r.length()));
        } else if (exit instanceof VmExit.Interrupted) {
            kvm.setImmediateExit(false);
            // Make the cleared flag visible before reading the requests: a kick racing with the clear
            // either is seen below or sets immediate_exit again after it.
            VarHandle.fullFence();
        } else if (exit instanceof VmExit.Halt) {
            idle(Long.MAX_VALUE);
        } else if (exit instanceof VmExit.Shutdown) {
            throw new GuestFailure("KVM_EXIT_SHUTDOWN (triple fault: the guest took an exception it could not handle)");
        } else if (exit instanceof VmExit.FailEntry f) {
            throw new GuestFailure("KVM_EXIT_FAIL_ENTRY (hardware entry failure reason 0x"
                    + Long.toHexString(f.hardwareReason()) + " on cpu " + f.cpu() + ")");
        } else if (exit instanceof VmExit.InternalError e) {
            throw new GuestFailure("KVM_EXIT_INTERNAL_ERROR (" + e.suberrorName() + ", data "
                    + java.util.Arrays.toString(e.data()) + ")");
        } else if (exit instanceof VmExit.SystemEvent s) {
            throw new GuestFailure("KVM_EXIT_SYSTEM_EVENT (type " + s.type() + ")");
        } else if (exit instanceof VmExit.Unhandled u) {
            throw new GuestFailure(u.reasonName() + " (not serviced by this VMM)");
        }
    }

    /** Parks the thread for up to {@code nanos}, waking early for pause, stop or {@link #wake()}. */
    private void idle(long nanos) {
        lock.lock();
        try {
            long left = nanos;
            while (left > 0 && !pauseRequested && !stopRequested && !context.woken) {
                left = changed.awaitNanos(left);
            }
            context.woken = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopRequested = true;
        } finally {
            lock.unlock();
        }
    }

    private void parkWhilePaused() {
        // Re-enter once with immediate_exit set so KVM completes a pending port or MMIO read before state is read.
        kvm.setImmediateExit(true);
        kvm.run();
        kvm.setImmediateExit(false);
        lock.lock();
        try {
            state = RunState.PAUSED;
            changed.signalAll();
            while (pauseRequested && !stopRequested) {
                changed.awaitUninterruptibly();
            }
            if (!stopRequested) {
                state = RunState.RUNNING;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    private void setState(RunState s) {
        lock.lock();
        try {
            state = s;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void requestPause() {
        pauseRequested = true;
        kvm.kick();
        signal();
    }

    /** Waits until the vCPU thread is parked (or gone), kicking it again each millisecond. */
    void awaitPaused(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        lock.lock();
        try {
            while (state == RunState.RUNNING) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("vCPU " + id() + " did not pause within "
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
                }
                changed.awaitNanos(Math.min(left, 1_000_000L));
                if (state == RunState.RUNNING) {
                    kvm.kick();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while pausing vCPU " + id(), e);
        } finally {
            lock.unlock();
        }
    }

    void resume() {
        lock.lock();
        try {
            pauseRequested = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void requestStop() {
        stopRequested = true;
        kvm.kick();
        signal();
    }

    /** Ends an idle wait early (for example when a device has work for the guest). */
    public void wake() {
        lock.lock();
        try {
            context.woken = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void join(long timeoutMillis) throws InterruptedException {
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (t.isAlive()) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                throw new IllegalStateException("vCPU " + id() + " thread did not end within " + timeoutMillis + " ms");
            }
            kvm.kick();
            t.join(Math.min(left, 5));
        }
    }

    boolean isPausedOrStopped() {
        lock.lock();
        try {
            return state != RunState.RUNNING;
        } finally {
            lock.unlock();
        }
    }

    /** Registers as text, for failure reports. Only valid from the vCPU thread or while it is not in KVM_RUN. */
    String registerDump() {
        try {
            Regs r = kvm.getRegs();
            Sregs s = kvm.getSregs();
            return String.format(
                    "rip=%016x rsp=%016x rflags=%016x%nrax=%016x rbx=%016x rcx=%016x rdx=%016x%n"
                            + "rsi=%016x rdi=%016x rbp=%016x%nr8 =%016x r9 =%016x r10=%016x r11=%016x%n"
                            + "r12=%016x r13=%016x r14=%016x r15=%016x%n"
                            + "cs=%04x(dpl%d) ss=%04x cr0=%016x cr2=%016x cr3=%016x cr4=%016x efer=%016x",
                    r.rip(), r.rsp(), r.rflags(), r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rbp(),
                    r.r8(), r.r9(), r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15(),
                    s.cs().selector(), s.cs().dpl(), s.ss().selector(), s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.efer());
        } catch (RuntimeException e) {
            return "(registers unavailable: " + e.getMessage() + ")";
        }
    }

    private final class Context implements AccessContext {
        private long idleNanos;
        private Integer exitCode;
        private boolean woken;

        @Override
        public int vcpuId() {
            return id();
        }

        @Override
        public void requestIdle(long nanos) {
            idleNanos = Math.max(1, nanos);
        }

        @Override
        public void requestExit(int code) {
            exitCode = code;
        }
    }

    private static final class GuestFailure extends RuntimeException {
        GuestFailure(String message) {
            super(message);
        }
    }
}
