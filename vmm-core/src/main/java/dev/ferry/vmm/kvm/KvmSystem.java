package dev.ferry.vmm.kvm;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;

/** The {@code /dev/kvm} file descriptor: system ioctls, and the factory of VMs. */
public final class KvmSystem implements AutoCloseable {
    /** The KVM device; {@code -Dferry.kvm.device=PATH} names another (for tests of a machine without KVM). */
    public static final String DEVICE = System.getProperty("ferry.kvm.device", "/dev/kvm");
    public static final int EXPECTED_API_VERSION = 12;

    private final int fd;
    private volatile boolean closed;

    private KvmSystem(int fd) {
        this.fd = fd;
    }

    /** Opens {@code /dev/kvm}; fails with a {@link KvmException} naming the errno (ENOENT, EACCES, ...). */
    public static KvmSystem open() {
        return new KvmSystem(Sys.open(DEVICE, LibC.O_RDWR | LibC.O_CLOEXEC));
    }

    /** KVM_GET_API_VERSION. */
    public int getApiVersion() {
        return Sys.ioctl("KVM_GET_API_VERSION", fd, Ioctls.KVM_GET_API_VERSION, 0);
    }

    /** KVM_CHECK_EXTENSION: 0 when the capability is absent, otherwise a capability-specific positive value. */
    public int checkExtension(int capability) {
        return Sys.ioctl("KVM_CHECK_EXTENSION", fd, Ioctls.KVM_CHECK_EXTENSION, capability);
    }

    /** KVM_GET_VCPU_MMAP_SIZE: the size of each vCPU's shared {@code kvm_run} mapping. */
    public int getVcpuMmapSize() {
        return Sys.ioctl("KVM_GET_VCPU_MMAP_SIZE", fd, Ioctls.KVM_GET_VCPU_MMAP_SIZE, 0);
    }

    /** KVM_GET_SUPPORTED_CPUID, growing the buffer while the kernel answers E2BIG. */
    public List<CpuidEntry> getSupportedCpuid() {
        for (int n = 64; n <= 4096; n *= 2) {
            Memory m = Structs.alloc(Layout.KVM_CPUID2_SIZE + (long) n * Layout.KVM_CPUID_ENTRY2_SIZE);
            m.setInt(0, n);
            try {
                // Safety: m holds the header and n entries, as nent says.
                Sys.ioctl("KVM_GET_SUPPORTED_CPUID", fd, Ioctls.KVM_GET_SUPPORTED_CPUID, com.sun.jna.Pointer.nativeValue(m));
            } catch (KvmException e) {
                if (e.errno() == LibC.E2BIG) {
                    continue;
                }
                throw e;
            }
            int count = m.getInt(0);
            List<CpuidEntry> entries = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long o = Layout.KVM_CPUID2_SIZE + (long) i * Layout.KVM_CPUID_ENTRY2_SIZE;
                entries.add(new CpuidEntry(m.getInt(o + Layout.CPUID_FUNCTION), m.getInt(o + Layout.CPUID_INDEX),
                        m.getInt(o + Layout.CPUID_FLAGS), m.getInt(o + Layout.CPUID_EAX), m.getInt(o + Layout.CPUID_EBX),
                        m.getInt(o + Layout.CPUID_ECX), m.getInt(o + Layout.CPUID_EDX)));
            }
            return List.copyOf(entries);
        }
        throw new KvmException("KVM_GET_SUPPORTED_CPUID", "more than 4096 entries");
    }

    /** KVM_GET_MSR_INDEX_LIST, growing the buffer while the kernel answers E2BIG. */
    public int[] getMsrIndexList() {
        int n = 256;
        while (n <= 65536) {
            Memory m = Structs.alloc(Layout.KVM_MSR_LIST_SIZE + 4L * n);
            m.setInt(0, n);
            try {
                // Safety: m holds the count and n indices.
                Sys.ioctl("KVM_GET_MSR_INDEX_LIST", fd, Ioctls.KVM_GET_MSR_INDEX_LIST, com.sun.jna.Pointer.nativeValue(m));
                return m.getIntArray(4, m.getInt(0));
            } catch (KvmException e) {
                if (e.errno() != LibC.E2BIG) {
                    throw e;
                }
                n = Math.max(n * 2, m.getInt(0));
            }
        }
        throw new KvmException("KVM_GET_MSR_INDEX_LIST", "more than 65536 MSRs");
    }

    /** KVM_CREATE_VM with the default machine type. */
    public KvmVm createVm() {
        int vmFd = Sys.ioctl("KVM_CREATE_VM", fd, Ioctls.KVM_CREATE_VM, 0);
        return new KvmVm(vmFd, getVcpuMmapSize());
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Sys.close(fd);
        }
    }
}
