package dev.ferry.cli;

import dev.ferry.vmm.Hypervisor;
import java.io.PrintWriter;

/** The check every command that needs KVM makes first, with the same message everywhere. */
final class KvmCheck {
    private KvmCheck() {}

    /** Returns the hypervisor, or null after printing why KVM cannot be used. */
    static Hypervisor hypervisorOrExplain(PrintWriter err) {
        if (!Hypervisor.isAvailable()) {
            err.println("ferry: " + Hypervisor.unavailabilityCause());
            return null;
        }
        return Hypervisor.get();
    }
}
