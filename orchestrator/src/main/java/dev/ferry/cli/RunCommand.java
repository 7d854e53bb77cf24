package dev.ferry.cli;

import dev.ferry.capture.VmCheckpointer;
import dev.ferry.capture.checkpoint.WriteReport;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import dev.ferry.vmm.VmResult;
import dev.ferry.vmm.boot.GuestImage;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.kvm.KvmException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "run", description = "Boot a guest on this host and stream its console to stdout.")
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--guest", required = true, description = "Built-in guest name (heartbeat, dirtier, ...) or a path to a .bin image.")
    String guest;

    @Option(names = "--memory", defaultValue = "256M", converter = MemorySizeConverter.class,
            description = "Guest RAM, a multiple of 4 KiB (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--seconds", defaultValue = "0",
            description = "Stop the guest after this many seconds; 0 runs until the guest exits (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--arg", description = "Guest parameter k=v (repeatable).")
    Map<String, String> args = new LinkedHashMap<>();

    @Option(names = "--disk", description = "Disk image for a virtio-blk device (whole 512-byte sectors).")
    java.nio.file.Path disk;

    @Option(names = "--checkpoint-to", description = "When the run ends, write a checkpoint of the guest to this file.")
    java.nio.file.Path checkpointTo;

    @Option(names = "--virtualization", defaultValue = "OFF", description = "ON or OFF while the guest runs (default: ${DEFAULT-VALUE}).")
    Virtualization virtualization;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (seconds < 0) {
            throw new IllegalArgumentException("--seconds must not be negative");
        }
        GuestImage image = GuestImage.load(guest);
        ConsoleOutput console = new ConsoleOutput();
        console.onLine(line -> {
            out.println(line);
            out.flush();
        });
        if (disk != null && !java.nio.file.Files.isRegularFile(disk)) {
            throw new IllegalArgumentException("disk image " + disk + " does not exist");
        }
        VmConfig config = new VmConfig(image.name(), image, memory, args, console, disk, null);
        Hypervisor h = KvmCheck.hypervisorOrExplain(err);
        if (h == null) {
            return FerryCli.KVM_UNAVAILABLE;
        }
        Vm vm;
        try {
            vm = h.boot(config);
        } catch (KvmException e) {
            err.println("ferry: cannot create a VM with " + dev.ferry.vmm.memory.MemorySize.format(memory)
                    + " of RAM: " + e.getMessage());
            return FerryCli.USAGE;
        }
        Thread hook = new Thread(vm::close, "ferry-run-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            VmCheckpointer checkpointer = checkpointTo == null ? null : VmCheckpointer.attach(vm, image.name(), disk);
            vm.setVirtualization(virtualization);
            vm.start();
            Optional<VmResult> ended = seconds > 0
                    ? vm.awaitResult(Duration.ofMillis((long) (seconds * 1000)))
                    : Optional.of(vm.result().join());
            if (ended.isEmpty() && checkpointer != null) {
                WriteReport w = checkpointer.checkpoint(checkpointTo, false);
                err.println("ferry: checkpoint " + checkpointTo + ": " + w);
                err.flush();
            } else if (checkpointer != null) {
                err.println("ferry: the guest ended before the checkpoint (" + ended.get().describe() + "); none written");
            }
            VmResult result = ended.orElseGet(vm::stop);
            if (checkpointer != null && ended.isPresent()) {
                report(result, err);
                return FerryCli.GUEST_FAILED;
            }
            return report(result, err);
        } finally {
            vm.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running already
            }
        }
    }

    private static int report(VmResult result, PrintWriter err) {
        if (result instanceof VmResult.Failed f) {
            err.println("ferry: " + result.describe());
            err.println(f.registerDump());
            err.flush();
            return FerryCli.GUEST_FAILED;
        }
        if (result instanceof VmResult.Exited e && e.code() != 0) {
            err.println("ferry: " + result.describe());
            err.flush();
            return FerryCli.GUEST_FAILED;
        }
        return FerryCli.OK;
    }
}
