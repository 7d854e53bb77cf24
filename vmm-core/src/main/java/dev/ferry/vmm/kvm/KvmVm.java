package dev.ferry.vmm.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/** A VM file descriptor: memory slots, the in-kernel irqchip, dirty logging, eventfds, and the factory of vCPUs. */
public final class KvmVm implements AutoCloseable {
    public static final int CAP_MANUAL_DIRTY_LOG_PROTECT2 = 168;
    public static final int DIRTY_LOG_MANUAL_PROTECT_ENABLE = 1;
    public static final int DIRTY_LOG_INITIALLY_SET = 2;
    public static final int IOEVENTFD_FLAG_PIO = 1 << 1;

    private final int fd;
    private final int vcpuMmapSize;
    private volatile boolean closed;

    KvmVm(int fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /** KVM_CHECK_EXTENSION on the VM (answers for this VM's type). */
    public int checkExtension(int capability) {
        return Sys.ioctl("KVM_CHECK_EXTENSION", fd, Ioctls.KVM_CHECK_EXTENSION, capability);
    }

    /** KVM_SET_TSS_ADDR: three pages of guest-physical space KVM may use on Intel hosts; must not overlap RAM. */
    public void setTssAddr(long address) {
        Sys.ioctl("KVM_SET_TSS_ADDR", fd, Ioctls.KVM_SET_TSS_ADDR, address);
    }

    /** KVM_CREATE_IRQCHIP: in-kernel PIC, IOAPIC and a LAPIC per vCPU. */
    public void createIrqchip() {
        Sys.ioctl("KVM_CREATE_IRQCHIP", fd, Ioctls.KVM_CREATE_IRQCHIP, 0);
    }

    /** KVM_ENABLE_CAP on the VM. */
    public void enableCap(int capability, long... args) {
        Memory m = Structs.alloc(Layout.KVM_ENABLE_CAP_SIZE);
        m.setInt(Layout.ENABLE_CAP_CAP, capability);
        for (int i = 0; i < Math.min(4, args.length); i++) {
            m.setLong(Layout.ENABLE_CAP_ARGS + 8L * i, args[i]);
        }
        // Safety: m is a whole struct kvm_enable_cap.
        Sys.ioctl("KVM_ENABLE_CAP(" + capability + ")", fd, Ioctls.KVM_ENABLE_CAP, Pointer.nativeValue(m));
    }

    /**
     * KVM_SET_USER_MEMORY_REGION: creates, resizes or changes the flags of a slot.
     * Safety: {@code slot.hostAddress()} must map {@code slot.size()} bytes for as long as the slot exists.
     */
    public void setUserMemoryRegion(MemorySlot slot) {
        Memory m = Structs.alloc(Layout.KVM_USERSPACE_MEMORY_REGION_SIZE);
        m.setInt(Layout.MEMREG_SLOT, slot.slot());
        m.setInt(Layout.MEMREG_FLAGS, slot.flags());
        m.setLong(Layout.MEMREG_GUEST_PHYS, slot.guestPhysAddress());
        m.setLong(Layout.MEMREG_SIZE, slot.size());
        m.setLong(Layout.MEMREG_USERSPACE_ADDR, slot.hostAddress());
        Sys.ioctl("KVM_SET_USER_MEMORY_REGION(slot " + slot.slot() + ")", fd, Ioctls.KVM_SET_USER_MEMORY_REGION,
                Pointer.nativeValue(m));
    }

    /** KVM_GET_DIRTY_LOG of the buffer's slot (with manual protection on, this does not clear or re-protect). */
    public void getDirtyLog(DirtyLogBuffer buffer) {
        // Safety: the buffer holds one bit per page of the slot, rounded up to 64 bits; its argument points there.
        Sys.ioctl("KVM_GET_DIRTY_LOG", fd, Ioctls.KVM_GET_DIRTY_LOG, Pointer.nativeValue(buffer.getArgs));
    }

    /** KVM_CLEAR_DIRTY_LOG: clears (and write-protects again) the pages whose bits are set in {@code buffer}. */
    public void clearDirtyLog(DirtyLogBuffer buffer) {
        // Safety: the buffer covers num_pages bits; its argument points there.
        Sys.ioctl("KVM_CLEAR_DIRTY_LOG", fd, Ioctls.KVM_CLEAR_DIRTY_LOG, Pointer.nativeValue(buffer.clearArgs));
    }

    /** KVM_GET_CLOCK. */
    public ClockData getClock() {
        Memory m = Structs.alloc(Layout.KVM_CLOCK_DATA_SIZE);
        Sys.ioctl("KVM_GET_CLOCK", fd, Ioctls.KVM_GET_CLOCK, Pointer.nativeValue(m));
        return new ClockData(m.getLong(Layout.CLOCK_DATA_CLOCK), m.getInt(Layout.CLOCK_DATA_FLAGS));
    }

    /** KVM_SET_CLOCK. */
    public void setClock(ClockData clock) {
        Memory m = Structs.alloc(Layout.KVM_CLOCK_DATA_SIZE);
        m.setLong(Layout.CLOCK_DATA_CLOCK, clock.clock());
        Sys.ioctl("KVM_SET_CLOCK", fd, Ioctls.KVM_SET_CLOCK, Pointer.nativeValue(m));
    }

    /** KVM_GET_IRQCHIP for chip 0 (PIC master), 1 (PIC slave) or 2 (IOAPIC): the whole {@code struct kvm_irqchip}. */
    public byte[] getIrqchip(int chipId) {
        Memory m = Structs.alloc(Layout.KVM_IRQCHIP_SIZE);
        m.setInt(Layout.IRQCHIP_CHIP_ID, chipId);
        Sys.ioctl("KVM_GET_IRQCHIP(" + chipId + ")", fd, Ioctls.KVM_GET_IRQCHIP, Pointer.nativeValue(m));
        return m.getByteArray(0, Layout.KVM_IRQCHIP_SIZE);
    }

    /** KVM_SET_IRQCHIP with a struct captured by {@link #getIrqchip}. */
    public void setIrqchip(byte[] chip) {
        Memory m = Structs.alloc(Layout.KVM_IRQCHIP_SIZE);
        m.write(0, chip, 0, Layout.KVM_IRQCHIP_SIZE);
        Sys.ioctl("KVM_SET_IRQCHIP(" + m.getInt(0) + ")", fd, Ioctls.KVM_SET_IRQCHIP, Pointer.nativeValue(m));
    }

    /**
     * KVM_IOEVENTFD: a guest write of {@code length} bytes to {@code address} signals {@code eventFd} without a
     * userspace exit (or, with {@code deassign}, stops doing so and lets the write exit again).
     */
    public void ioeventfd(long address, int length, EventFd eventFd, boolean pio, boolean deassign) {
        Memory m = Structs.alloc(Layout.KVM_IOEVENTFD_SIZE);
        m.setLong(Layout.IOEVENTFD_ADDR, address);
        m.setInt(Layout.IOEVENTFD_LEN, length);
        m.setInt(Layout.IOEVENTFD_FD, eventFd.fd());
        m.setInt(Layout.IOEVENTFD_FLAGS, (pio ? IOEVENTFD_FLAG_PIO : 0) | (deassign ? 1 << 2 : 0));
        Sys.ioctl("KVM_IOEVENTFD(0x" + Long.toHexString(address) + ")", fd, Ioctls.KVM_IOEVENTFD, Pointer.nativeValue(m));
    }

    /** KVM_CREATE_VCPU, then maps its {@code kvm_run} page. */
    public KvmVcpu createVcpu(int id) {
        int vcpuFd = Sys.ioctl("KVM_CREATE_VCPU(" + id + ")", fd, Ioctls.KVM_CREATE_VCPU, id);
        long run = Sys.mmap(vcpuMmapSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, vcpuFd, 0);
        return new KvmVcpu(id, vcpuFd, run, vcpuMmapSize);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Sys.close(fd);
        }
    }
}
