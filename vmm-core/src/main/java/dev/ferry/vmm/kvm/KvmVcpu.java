package dev.ferry.vmm.kvm;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A vCPU file descriptor and its shared {@code kvm_run} page. {@link #run()} must be called from one thread,
 * the one passed to {@link #bindCurrentThread()}; {@link #kick()} may be called from any thread.
 * Other vCPU ioctls block while the vCPU is inside {@code KVM_RUN}: call them only while it is stopped.
 */
public final class KvmVcpu implements AutoCloseable {
    private final int id;
    private final int fd;
    private final long runAddress;
    private final int runSize;
    private final ByteBuffer run;
    private volatile long boundThread;
    private volatile boolean closed;

    KvmVcpu(int id, int fd, long runAddress, int runSize) {
        this.id = id;
        this.fd = fd;
        this.runAddress = runAddress;
        this.runSize = runSize;
        this.run = new Pointer(runAddress).getByteBuffer(0, runSize).order(ByteOrder.nativeOrder());
    }

    public int id() {
        return id;
    }

    /** Records the calling thread as the one that runs this vCPU, so {@link #kick()} can signal it. */
    public void bindCurrentThread() {
        VcpuSignal.number();
        boundThread = LibC.pthread_self();
    }

    public void unbindThread() {
        boundThread = 0;
    }

    /**
     * KVM_RUN. Returns the exit as a typed value; {@link VmExit.Interrupted} when the run was cut short by
     * {@link #kick()} (check errno first: {@code exit_reason} is stale then).
     */
    public VmExit run() {
        try {
            LibC.ioctl(fd, Ioctls.KVM_RUN, 0);
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == LibC.EINTR || errno == LibC.EAGAIN) {
                return new VmExit.Interrupted();
            }
            throw new KvmException("KVM_RUN(vcpu " + id + ")", errno);
        }
        return decodeExit();
    }

    private VmExit decodeExit() {
        int reason = run.getInt(Layout.RUN_EXIT_REASON);
        switch (reason) {
            case ExitReasons.IO: {
                int size = run.get(Layout.RUN_IO_SIZE);
                int port = run.getShort(Layout.RUN_IO_PORT) & 0xFFFF;
                int count = run.getInt(Layout.RUN_IO_COUNT);
                return run.get(Layout.RUN_IO_DIRECTION) == 1
                        ? new VmExit.IoOut(port, size, count)
                        : new VmExit.IoIn(port, size, count);
            }
            case ExitReasons.MMIO: {
                long addr = run.getLong(Layout.RUN_MMIO_PHYS_ADDR);
                int len = run.getInt(Layout.RUN_MMIO_LEN);
                if (run.get(Layout.RUN_MMIO_IS_WRITE) != 0) {
                    return new VmExit.MmioWrite(addr, len, readLe(Layout.RUN_MMIO_DATA, len));
                }
                return new VmExit.MmioRead(addr, len);
            }
            case ExitReasons.HLT:
                return new VmExit.Halt();
            case ExitReasons.SHUTDOWN:
                return new VmExit.Shutdown();
            case ExitReasons.FAIL_ENTRY:
                return new VmExit.FailEntry(run.getLong(Layout.RUN_FAIL_ENTRY_REASON), run.getInt(Layout.RUN_FAIL_ENTRY_CPU));
            case ExitReasons.INTERNAL_ERROR: {
                int n = Math.min(16, Math.max(0, run.getInt(Layout.RUN_INTERNAL_NDATA)));
                long[] data = new long[n];
                for (int i = 0; i < n; i++) {
                    data[i] = run.getLong(Layout.RUN_INTERNAL_DATA + 8 * i);
                }
                return new VmExit.InternalError(run.getInt(Layout.RUN_INTERNAL_SUBERROR), data);
            }
            case ExitReasons.SYSTEM_EVENT:
                return new VmExit.SystemEvent(run.getInt(Layout.RUN_SYSTEM_EVENT_TYPE));
            case ExitReasons.INTR:
                return new VmExit.Interrupted();
            default:
                return new VmExit.Unhandled(reason);
        }
    }

    private long readLe(int offset, int len) {
        return switch (len) {
            case 1 -> run.get(offset) & 0xFFL;
            case 2 -> run.getShort(offset) & 0xFFFFL;
            case 4 -> run.getInt(offset) & 0xFFFFFFFFL;
            default -> run.getLong(offset);
        };
    }

    private void writeLe(int offset, int len, long value) {
        switch (len) {
            case 1 -> run.put(offset, (byte) value);
            case 2 -> run.putShort(offset, (short) value);
            case 4 -> run.putInt(offset, (int) value);
            default -> run.putLong(offset, value);
        }
    }

    private int ioDataOffset(int index) {
        long off = run.getLong(Layout.RUN_IO_DATA_OFFSET) + (long) index * run.get(Layout.RUN_IO_SIZE);
        if (off < 0 || off + 8 > runSize) {
            throw new KvmException("KVM_EXIT_IO", "data offset " + off + " outside the run page");
        }
        return (int) off;
    }

    /** The {@code index}-th value of the current port-output exit. */
    public long ioValue(int index) {
        return readLe(ioDataOffset(index), run.get(Layout.RUN_IO_SIZE));
    }

    /** Supplies the {@code index}-th value of the current port-input exit. */
    public void setIoValue(int index, long value) {
        writeLe(ioDataOffset(index), run.get(Layout.RUN_IO_SIZE), value);
    }

    /** Supplies the value of the current MMIO read exit. */
    public void completeMmioRead(long value) {
        writeLe(Layout.RUN_MMIO_DATA, run.getInt(Layout.RUN_MMIO_LEN), value);
    }

    /** Sets {@code kvm_run.immediate_exit}: while set, KVM_RUN returns EINTR at once (after completing pending I/O). */
    public void setImmediateExit(boolean on) {
        run.put(Layout.RUN_IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    /** Gets the vCPU out of KVM_RUN soon: sets immediate_exit and signals the bound thread. */
    public void kick() {
        setImmediateExit(true);
        long t = boundThread;
        if (t != 0) {
            LibC.pthread_kill(t, VcpuSignal.number());
        }
    }

    private int ioctl(String name, long request, Memory arg) {
        return Sys.ioctl(name + "(vcpu " + id + ")", fd, request, Pointer.nativeValue(arg));
    }

    /** KVM_GET_REGS. */
    public Regs getRegs() {
        Memory m = Structs.alloc(Layout.KVM_REGS_SIZE);
        ioctl("KVM_GET_REGS", Ioctls.KVM_GET_REGS, m);
        return Structs.getRegs(m);
    }

    /** KVM_SET_REGS. */
    public void setRegs(Regs regs) {
        Memory m = Structs.alloc(Layout.KVM_REGS_SIZE);
        Structs.putRegs(m, regs);
        ioctl("KVM_SET_REGS", Ioctls.KVM_SET_REGS, m);
    }

    /** KVM_GET_SREGS. */
    public Sregs getSregs() {
        Memory m = Structs.alloc(Layout.KVM_SREGS_SIZE);
        ioctl("KVM_GET_SREGS", Ioctls.KVM_GET_SREGS, m);
        return Structs.getSregs(m);
    }

    /** KVM_SET_SREGS. */
    public void setSregs(Sregs sregs) {
        Memory m = Structs.alloc(Layout.KVM_SREGS_SIZE);
        Structs.putSregs(m, sregs);
        ioctl("KVM_SET_SREGS", Ioctls.KVM_SET_SREGS, m);
    }

    /** KVM_SET_CPUID2. */
    public void setCpuid2(List<CpuidEntry> entries) {
        Memory m = Structs.alloc(Layout.KVM_CPUID2_SIZE + (long) entries.size() * Layout.KVM_CPUID_ENTRY2_SIZE);
        m.setInt(0, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            CpuidEntry e = entries.get(i);
            long o = Layout.KVM_CPUID2_SIZE + (long) i * Layout.KVM_CPUID_ENTRY2_SIZE;
            m.setInt(o + Layout.CPUID_FUNCTION, e.function());
            m.setInt(o + Layout.CPUID_INDEX, e.index());
            m.setInt(o + Layout.CPUID_FLAGS, e.flags());
            m.setInt(o + Layout.CPUID_EAX, e.eax());
            m.setInt(o + Layout.CPUID_EBX, e.ebx());
            m.setInt(o + Layout.CPUID_ECX, e.ecx());
            m.setInt(o + Layout.CPUID_EDX, e.edx());
        }
        ioctl("KVM_SET_CPUID2", Ioctls.KVM_SET_CPUID2, m);
    }

    /**
     * KVM_GET_MSRS. Returns the entries KVM processed, in order; it stops at the first MSR it refuses,
     * so the result may be shorter than {@code indices}.
     */
    public List<MsrEntry> getMsrs(int[] indices) {
        Memory m = Structs.alloc(Layout.KVM_MSRS_SIZE + (long) indices.length * Layout.KVM_MSR_ENTRY_SIZE);
        m.setInt(0, indices.length);
        for (int i = 0; i < indices.length; i++) {
            m.setInt(Layout.KVM_MSRS_SIZE + (long) i * Layout.KVM_MSR_ENTRY_SIZE + Layout.MSR_ENTRY_INDEX, indices[i]);
        }
        int n = ioctl("KVM_GET_MSRS", Ioctls.KVM_GET_MSRS, m);
        List<MsrEntry> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long o = Layout.KVM_MSRS_SIZE + (long) i * Layout.KVM_MSR_ENTRY_SIZE;
            out.add(new MsrEntry(m.getInt(o + Layout.MSR_ENTRY_INDEX), m.getLong(o + Layout.MSR_ENTRY_DATA)));
        }
        return out;
    }

    /** KVM_SET_MSRS. Returns how many entries KVM accepted (it stops at the first refusal). */
    public int setMsrs(List<MsrEntry> entries) {
        Memory m = Structs.alloc(Layout.KVM_MSRS_SIZE + (long) entries.size() * Layout.KVM_MSR_ENTRY_SIZE);
        m.setInt(0, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            long o = Layout.KVM_MSRS_SIZE + (long) i * Layout.KVM_MSR_ENTRY_SIZE;
            m.setInt(o + Layout.MSR_ENTRY_INDEX, entries.get(i).index());
            m.setLong(o + Layout.MSR_ENTRY_DATA, entries.get(i).value());
        }
        return ioctl("KVM_SET_MSRS", Ioctls.KVM_SET_MSRS, m);
    }

    /** KVM_GET_XCRS. */
    public List<Xcr> getXcrs() {
        Memory m = Structs.alloc(Layout.KVM_XCRS_SIZE);
        ioctl("KVM_GET_XCRS", Ioctls.KVM_GET_XCRS, m);
        int n = Math.min(16, m.getInt(Layout.XCRS_NR));
        List<Xcr> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long o = Layout.XCRS_ENTRIES + (long) i * Layout.KVM_XCR_SIZE;
            out.add(new Xcr(m.getInt(o + Layout.XCR_XCR), m.getLong(o + Layout.XCR_VALUE)));
        }
        return out;
    }

    /** KVM_SET_XCRS. */
    public void setXcrs(List<Xcr> xcrs) {
        Memory m = Structs.alloc(Layout.KVM_XCRS_SIZE);
        m.setInt(Layout.XCRS_NR, xcrs.size());
        for (int i = 0; i < xcrs.size(); i++) {
            long o = Layout.XCRS_ENTRIES + (long) i * Layout.KVM_XCR_SIZE;
            m.setInt(o + Layout.XCR_XCR, xcrs.get(i).index());
            m.setLong(o + Layout.XCR_VALUE, xcrs.get(i).value());
        }
        ioctl("KVM_SET_XCRS", Ioctls.KVM_SET_XCRS, m);
    }

    private byte[] getBlob(String name, long request, int size) {
        Memory m = Structs.alloc(size);
        ioctl(name, request, m);
        return m.getByteArray(0, size);
    }

    private void setBlob(String name, long request, byte[] blob, int size) {
        if (blob.length != size) {
            throw new IllegalArgumentException(name + " takes " + size + " bytes, got " + blob.length);
        }
        Memory m = Structs.alloc(size);
        m.write(0, blob, 0, size);
        ioctl(name, request, m);
    }

    /** KVM_GET_FPU: the legacy x87/SSE state ({@code struct kvm_fpu}). */
    public byte[] getFpu() {
        return getBlob("KVM_GET_FPU", Ioctls.KVM_GET_FPU, Layout.KVM_FPU_SIZE);
    }

    /** KVM_SET_FPU. */
    public void setFpu(byte[] fpu) {
        setBlob("KVM_SET_FPU", Ioctls.KVM_SET_FPU, fpu, Layout.KVM_FPU_SIZE);
    }

    /** KVM_GET_XSAVE: the XSAVE area ({@code struct kvm_xsave}, 4 KiB). */
    public byte[] getXsave() {
        return getBlob("KVM_GET_XSAVE", Ioctls.KVM_GET_XSAVE, Layout.KVM_XSAVE_SIZE);
    }

    /** KVM_SET_XSAVE. */
    public void setXsave(byte[] xsave) {
        setBlob("KVM_SET_XSAVE", Ioctls.KVM_SET_XSAVE, xsave, Layout.KVM_XSAVE_SIZE);
    }

    /** KVM_GET_LAPIC: the local APIC's register page. */
    public byte[] getLapic() {
        return getBlob("KVM_GET_LAPIC", Ioctls.KVM_GET_LAPIC, Layout.KVM_LAPIC_STATE_SIZE);
    }

    /** KVM_SET_LAPIC. */
    public void setLapic(byte[] lapic) {
        setBlob("KVM_SET_LAPIC", Ioctls.KVM_SET_LAPIC, lapic, Layout.KVM_LAPIC_STATE_SIZE);
    }

    /** KVM_GET_VCPU_EVENTS: pending exceptions, interrupts, NMIs and SMIs. */
    public byte[] getVcpuEvents() {
        return getBlob("KVM_GET_VCPU_EVENTS", Ioctls.KVM_GET_VCPU_EVENTS, Layout.KVM_VCPU_EVENTS_SIZE);
    }

    /** KVM_SET_VCPU_EVENTS. */
    public void setVcpuEvents(byte[] events) {
        setBlob("KVM_SET_VCPU_EVENTS", Ioctls.KVM_SET_VCPU_EVENTS, events, Layout.KVM_VCPU_EVENTS_SIZE);
    }

    /** KVM_GET_DEBUGREGS. */
    public byte[] getDebugRegs() {
        return getBlob("KVM_GET_DEBUGREGS", Ioctls.KVM_GET_DEBUGREGS, Layout.KVM_DEBUGREGS_SIZE);
    }

    /** KVM_SET_DEBUGREGS. */
    public void setDebugRegs(byte[] debugRegs) {
        setBlob("KVM_SET_DEBUGREGS", Ioctls.KVM_SET_DEBUGREGS, debugRegs, Layout.KVM_DEBUGREGS_SIZE);
    }

    /** KVM_GET_MP_STATE. */
    public int getMpState() {
        Memory m = Structs.alloc(Layout.KVM_MP_STATE_SIZE);
        ioctl("KVM_GET_MP_STATE", Ioctls.KVM_GET_MP_STATE, m);
        return m.getInt(0);
    }

    /** KVM_SET_MP_STATE. */
    public void setMpState(int state) {
        Memory m = Structs.alloc(Layout.KVM_MP_STATE_SIZE);
        m.setInt(0, state);
        ioctl("KVM_SET_MP_STATE", Ioctls.KVM_SET_MP_STATE, m);
    }

    /** KVM_GET_TSC_KHZ: the guest TSC frequency. */
    public long getTscKhz() {
        return Sys.ioctl("KVM_GET_TSC_KHZ(vcpu " + id + ")", fd, Ioctls.KVM_GET_TSC_KHZ, 0);
    }

    /** KVM_SET_TSC_KHZ. */
    public void setTscKhz(long khz) {
        Sys.ioctl("KVM_SET_TSC_KHZ(vcpu " + id + ")", fd, Ioctls.KVM_SET_TSC_KHZ, khz);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Sys.munmap(runAddress, runSize);
            Sys.close(fd);
        }
    }
}
