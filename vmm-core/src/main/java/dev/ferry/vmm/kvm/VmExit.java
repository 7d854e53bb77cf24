package dev.ferry.vmm.kvm;

/**
 * Why {@code KVM_RUN} returned, as a typed value. I/O data for port reads and MMIO reads is supplied
 * through {@link KvmVcpu#setIoValue} and {@link KvmVcpu#completeMmioRead} before the next run.
 */
public sealed interface VmExit {
    /** {@code out}/{@code outs}: {@code count} values of {@code size} bytes, read with {@link KvmVcpu#ioValue}. */
    record IoOut(int port, int size, int count) implements VmExit {}

    /** {@code in}/{@code ins}: supply {@code count} values with {@link KvmVcpu#setIoValue}. */
    record IoIn(int port, int size, int count) implements VmExit {}

    record MmioWrite(long address, int length, long value) implements VmExit {}

    /** Supply the value with {@link KvmVcpu#completeMmioRead}. */
    record MmioRead(long address, int length) implements VmExit {}

    record Halt() implements VmExit {}

    /** A triple fault or an explicit shutdown: the guest cannot continue. */
    record Shutdown() implements VmExit {}

    /** The hardware refused to enter the guest. */
    record FailEntry(long hardwareReason, int cpu) implements VmExit {}

    /** KVM could not handle an exit; suberror 1 is an instruction the emulator cannot emulate. */
    record InternalError(int suberror, long[] data) implements VmExit {
        public String suberrorName() {
            return switch (suberror) {
                case 1 -> "EMULATION";
                case 2 -> "SIMUL_EX";
                case 3 -> "DELIVERY_EV";
                case 4 -> "UNEXPECTED_EXIT_REASON";
                default -> "suberror " + suberror;
            };
        }
    }

    record SystemEvent(int type) implements VmExit {}

    /** KVM_RUN returned EINTR: the vCPU was kicked (a signal, or {@code immediate_exit}). */
    record Interrupted() implements VmExit {}

    /** An exit reason the core does not service (exception, debug, hypercall, ...); named for the error report. */
    record Unhandled(int reason) implements VmExit {
        public String reasonName() {
            return ExitReasons.name(reason);
        }
    }
}
