package dev.ferry.capture;

import dev.ferry.capture.checkpoint.CheckpointChain;
import dev.ferry.capture.checkpoint.CheckpointMeta;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.restore.RestorePlanCodec;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.console.ConsoleOutput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Restores a VM from a checkpoint file (and its parents): verifies the whole chain, creates the VM with the captured
 * KVM state, fills its memory, rebuilds its devices from their restore plans. The VM is returned not started.
 */
public final class VmRestore {
    private VmRestore() {}

    /** {@code disk} overrides the image path the checkpoint recorded (null: use the recorded one, if any). */
    public static Vm restore(Path newest, ConsoleOutput console, Path disk) throws IOException {
        try (CheckpointChain chain = CheckpointChain.open(newest)) {
            CheckpointMeta meta = chain.meta();
            Path image = disk;
            String recorded = meta.attributes().get(VmCheckpointer.DISK_ATTRIBUTE);
            if (image == null && recorded != null) {
                image = Path.of(recorded);
            }
            if (image != null && !Files.isRegularFile(image)) {
                throw new IllegalArgumentException("checkpoint " + newest.getFileName() + " needs its disk image "
                        + image + ", which does not exist (pass --disk)");
            }
            List<RestorePlan> plans = new ArrayList<>();
            for (Map.Entry<String, byte[]> d : chain.devices().entrySet()) {
                plans.add(RestorePlanCodec.decode(d.getValue()));
            }
            console.prefill(meta.attributes().getOrDefault(VmCheckpointer.CONSOLE_PARTIAL_ATTRIBUTE, ""));
            Vm vm = Hypervisor.get().restore(meta.vmName(), meta.memorySize(), chain.machineState(), console, image);
            try {
                chain.applyMemory(vm.memory());
                VmDeviceCapture.restore(vm, plans);
                return vm;
            } catch (IOException | RuntimeException e) {
                vm.close();
                throw e;
            }
        }
    }
}
