package dev.ferry.cli;

import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.kvm.Capability;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "kvm-info", description = "Print the KVM API version and the capabilities Ferry relies on.")
final class KvmInfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Hypervisor h = KvmCheck.hypervisorOrExplain(spec.commandLine().getErr());
        if (h == null) {
            return FerryCli.KVM_UNAVAILABLE;
        }
        out.println("KVM API version " + h.apiVersion());
        for (Map.Entry<Capability, Integer> e : new java.util.TreeMap<>(h.capabilities()).entrySet()) {
            Capability c = e.getKey();
            String value = e.getValue() > 0 ? "yes" + (e.getValue() > 1 ? " (" + e.getValue() + ")" : "") : "no";
            out.printf("  %-34s %-12s %s%s%n", c.kernelName(), value, c.purpose(), c.required() ? "" : " (optional)");
        }
        out.println("MSRs that save and restore: " + h.savableMsrs().length);
        out.flush();
        return FerryCli.OK;
    }
}
