package dev.ferry.host.agent;

import dev.ferry.capture.VmDeviceCapture;
import dev.ferry.capture.checkpoint.MachineStateCodec;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.restore.RestorePlanCodec;
import dev.ferry.capture.shadow.DeviceCapture;
import dev.ferry.protocol.v1.MachineProto;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a switchover's state path once on a scratch VM when the host starts (probe the savable MSRs, capture and
 * encode the vCPU and device state, decode and restore it into a second VM), so the first migration onto or off
 * this host does not pay for loading and compiling that path while its guest is paused.
 */
final class WarmUp {
    private static final Logger LOG = LoggerFactory.getLogger(WarmUp.class);
    private static final long SCRATCH = 16L << 20;

    private WarmUp() {}

    static void run() {
        if (!Hypervisor.isAvailable()) {
            return;
        }
        long t0 = System.nanoTime();
        Hypervisor h = Hypervisor.get();
        h.savableMsrs();
        try (Vm a = h.boot(VmConfig.of("heartbeat", SCRATCH, Map.of()))) {
            DeviceCapture devices = VmDeviceCapture.attach(a);
            a.start(true);
            a.setVirtualization(Virtualization.ON);
            var wire = MachineStateCodec.encode(a.captureMachineState()).toByteString();
            List<RestorePlan> plans = new ArrayList<>();
            for (RestorePlan p : devices.plans()) {
                plans.add(RestorePlanCodec.decode(RestorePlanCodec.encode(p)));
            }
            a.setVirtualization(Virtualization.OFF);
            try (Vm b = h.prepare("warm-up", GuestMemory.allocate(SCRATCH), new ConsoleOutput(), null)) {
                b.restoreMachineState(MachineStateCodec.decode(MachineProto.MachineState.parseFrom(wire)));
                VmDeviceCapture.restore(b, plans);
            }
            LOG.info(String.format("switchover path warmed up in %.1f ms", (System.nanoTime() - t0) / 1e6));
        } catch (Exception | LinkageError e) {
            LOG.warn("warm-up of the switchover path failed (the first migration will be slower): {}", e.toString());
        }
    }
}
