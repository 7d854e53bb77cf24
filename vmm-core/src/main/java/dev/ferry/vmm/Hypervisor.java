package dev.ferry.vmm;

import dev.ferry.vmm.boot.BootInfo;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.devices.virtio.VirtioMmioDevice;
import dev.ferry.vmm.devices.virtio.VirtioMmioRegisters;
import dev.ferry.vmm.devices.virtio.blk.VirtioBlk;
import dev.ferry.vmm.boot.LongModeSetup;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.kvm.Capability;
import dev.ferry.vmm.kvm.CpuidEntry;
import dev.ferry.vmm.kvm.KvmException;
import dev.ferry.vmm.kvm.KvmSystem;
import dev.ferry.vmm.kvm.KvmVcpu;
import dev.ferry.vmm.kvm.KvmVm;
import dev.ferry.vmm.kvm.MsrEntry;
import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.state.MachineState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The entry point of the core: whether KVM can be used here, what it offers, and the two ways to make a
 * VM: {@link #boot} a guest image fresh, or {@link #restore} one from captured state.
 */
public final class Hypervisor {
    private static final long TSS_ADDRESS = 0xFFFBD000L;
    private static final Object LOCK = new Object();
    private static String unavailability;
    private static Hypervisor instance;
    private static boolean probed;

    private final KvmSystem system;
    private final List<CpuidEntry> cpuid;
    private final Map<Capability, Integer> capabilities;
    private int[] savableMsrs;

    private Hypervisor(KvmSystem system) {
        this.system = system;
        this.capabilities = new LinkedHashMap<>();
        for (Capability c : Capability.values()) {
            capabilities.put(c, system.checkExtension(c.number()));
        }
        this.cpuid = CpuFeatures.hide(system.getSupportedCpuid(), CpuFeatures.hidden());
    }

    /** The named CPU features this host's guests see (less any hidden with {@code -Dferry.cpu.hide}). */
    public List<String> cpuFeatures() {
        return CpuFeatures.of(cpuid);
    }

    /** Whether Ferry can run guests here; computed once. */
    public static boolean isAvailable() {
        probe();
        return instance != null;
    }

    /** Why KVM cannot be used here, or null when it can. */
    public static String unavailabilityCause() {
        probe();
        return unavailability;
    }

    /** The process-wide hypervisor; throws with {@link #unavailabilityCause()} when KVM cannot be used. */
    public static Hypervisor get() {
        probe();
        if (instance == null) {
            throw new IllegalStateException(unavailability);
        }
        return instance;
    }

    private static void probe() {
        synchronized (LOCK) {
            if (probed) {
                return;
            }
            probed = true;
            try {
                KvmSystem sys = KvmSystem.open();
                int version = sys.getApiVersion();
                if (version != KvmSystem.EXPECTED_API_VERSION) {
                    sys.close();
                    unavailability = "/dev/kvm speaks KVM API version " + version + "; Ferry needs "
                            + KvmSystem.EXPECTED_API_VERSION;
                    return;
                }
                Hypervisor h = new Hypervisor(sys);
                List<String> missing = new ArrayList<>();
                for (Map.Entry<Capability, Integer> e : h.capabilities.entrySet()) {
                    if (e.getKey().required() && e.getValue() <= 0) {
                        missing.add(e.getKey().kernelName());
                    }
                }
                if (!missing.isEmpty()) {
                    sys.close();
                    unavailability = "KVM on this machine lacks capabilities Ferry needs: " + String.join(", ", missing);
                    return;
                }
                instance = h;
            } catch (KvmException e) {
                unavailability = describeOpenFailure(e);
            } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
                unavailability = "cannot call into libc through JNA: " + e.getMessage();
            }
        }
    }

    private static String describeOpenFailure(KvmException e) {
        return switch (e.errno()) {
            case 2 -> "no " + KvmSystem.DEVICE + " on this machine: KVM is not available (load the kvm module, "
                    + "or use a host with hardware virtualization)";
            case 13, 1 -> "no permission to open " + KvmSystem.DEVICE + ": run as a user in the 'kvm' group";
            default -> "cannot use " + KvmSystem.DEVICE + ": " + e.getMessage();
        };
    }

    public int apiVersion() {
        return system.getApiVersion();
    }

    /** Each capability Ferry knows of, and what KVM_CHECK_EXTENSION answered for it (0 = absent). */
    public Map<Capability, Integer> capabilities() {
        return Map.copyOf(capabilities);
    }

    private boolean cpuidHas(int function, int register, int bit) {
        for (CpuidEntry e : cpuid) {
            if (e.function() == function && e.index() == 0) {
                int v = register == 2 ? e.ecx() : register == 3 ? e.edx() : e.ebx();
                return (v & (1 << bit)) != 0;
            }
        }
        return false;
    }

    boolean hasXsave() {
        return cpuidHas(1, 2, 26);
    }

    boolean hasAvx() {
        return cpuidHas(1, 2, 28);
    }

    /**
     * The MSRs that both save and restore on this host: KVM's index list, less those it refuses to read
     * or to write back. Probed once on a scratch VM.
     */
    public synchronized int[] savableMsrs() {
        if (savableMsrs == null) {
            savableMsrs = probeSavableMsrs();
        }
        return savableMsrs.clone();
    }

    private int[] probeSavableMsrs() {
        int[] all = system.getMsrIndexList();
        List<Integer> ok = new ArrayList<>();
        try (KvmVm vm = system.createVm()) {
            vm.createIrqchip();
            try (KvmVcpu vcpu = vm.createVcpu(0)) {
                vcpu.setCpuid2(cpuid);
                for (int index : all) {
                    List<MsrEntry> got = vcpu.getMsrs(new int[] {index});
                    if (got.size() == 1 && vcpu.setMsrs(got) == 1) {
                        ok.add(index);
                    }
                }
            }
        }
        return ok.stream().mapToInt(Integer::intValue).toArray();
    }

    private Vm create(String name, long memorySize, ConsoleOutput console) {
        return create(name, GuestMemory.allocate(memorySize), console);
    }

    /** Creates a VM around {@code memory}, which it then owns (closes). */
    private Vm create(String name, GuestMemory memory, ConsoleOutput console) {
        KvmVm kvm;
        try {
            kvm = system.createVm();
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
        try {
            kvm.setTssAddr(TSS_ADDRESS);
            kvm.createIrqchip();
            kvm.enableCap(KvmVm.CAP_MANUAL_DIRTY_LOG_PROTECT2, KvmVm.DIRTY_LOG_MANUAL_PROTECT_ENABLE);
            Vm vm = new Vm(name, this, kvm, memory, console);
            vm.dirtyLogForSetup().registerSlots();
            KvmVcpu v = kvm.createVcpu(0);
            v.setCpuid2(cpuid);
            vm.addVcpu(new Vcpu(v, vm.busInternal(), vm));
            return vm;
        } catch (RuntimeException e) {
            memory.close();
            kvm.close();
            throw e;
        }
    }

    /** Where the first virtio-mmio device sits in the MMIO hole (guests/ABI.md). */
    public static final long VIRTIO_BLK_BASE = 0xD000_0000L;

    private static void attachDisk(Vm vm, Path disk) {
        if (disk != null) {
            attachDisk(vm, new VirtioBlk(disk));
        }
    }

    private static void attachDisk(Vm vm, VirtioBlk blk) {
        vm.attach(AddressSpace.MMIO, VIRTIO_BLK_BASE, VirtioMmioRegisters.SIZE,
                new VirtioMmioDevice("virtio-blk", VIRTIO_BLK_BASE, blk, vm.memory()));
    }

    /** Creates a VM with the guest image loaded and its vCPU at the entry point; call {@link Vm#start()}. */
    public Vm boot(VmConfig config) {
        Vm vm = create(config.name(), config.memorySize(), config.console());
        try {
            if (config.diskStore() != null) {
                attachDisk(vm, new VirtioBlk(config.diskStore()));
            } else {
                attachDisk(vm, config.disk());
            }
            GuestMemory memory = vm.memory();
            KvmVcpu vcpu = vm.vcpus().get(0).kvm();
            LongModeSetup.writeTables(memory, config.memorySize());
            LongModeSetup.loadImage(memory, config.image());
            new BootInfo(vcpu.getTscKhz(), config.memorySize(), memory.regions(), config.args()).writeTo(memory);
            LongModeSetup.enterGuest(vcpu, hasXsave(), hasAvx());
            return vm;
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    /**
     * Creates a VM of {@code memorySize} bytes and sets its KVM state from {@code state}; the caller fills
     * guest RAM (through {@link Vm#memory()}) and restores devices before {@link Vm#start()}.
     */
    public Vm restore(String name, long memorySize, MachineState state, ConsoleOutput console) {
        return restore(name, memorySize, state, console, null);
    }

    /**
     * As {@link #restore(String, long, MachineState, ConsoleOutput)}, with a virtio-blk disk backed by {@code disk}
     * (null for none). The device starts reset: its registers are restored by writing them, before start.
     */
    public Vm restore(String name, long memorySize, MachineState state, ConsoleOutput console, Path disk) {
        return restore(name, GuestMemory.allocate(memorySize), state, console, disk);
    }

    /**
     * As {@link #restore(String, long, MachineState, ConsoleOutput, Path)}, around guest RAM that is already filled
     * (for instance by a migration's page streams); the VM owns {@code memory} from now on.
     */
    public Vm restore(String name, GuestMemory memory, MachineState state, ConsoleOutput console, Path disk) {
        Vm vm = prepare(name, memory, console, disk);
        try {
            vm.restoreMachineState(state);
            return vm;
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    /**
     * Creates a VM around {@code memory} whose KVM state is set later, by {@link Vm#restoreMachineState}: what a
     * migration destination builds before the source pauses, so the switchover only sets registers.
     */
    public Vm prepare(String name, GuestMemory memory, ConsoleOutput console, Path disk) {
        Vm vm = create(name, memory, console);
        try {
            attachDisk(vm, disk);
            return vm;
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }
}
