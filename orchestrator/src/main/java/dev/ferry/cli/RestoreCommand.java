package dev.ferry.cli;

import dev.ferry.capture.VmRestore;
import dev.ferry.host.client.HostClient;
import dev.ferry.protocol.v1.RestoreResult;
import java.nio.file.Files;
import picocli.CommandLine.Mixin;
import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmResult;
import dev.ferry.vmm.console.ConsoleOutput;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "restore", description = {
    "Restore an instance of the cluster from a checkpoint (ferry restore INSTANCE [--from FILE] [--host H]),",
    "or resume a checkpoint file in this process and stream its console (ferry restore FILE)."})
final class RestoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    @Parameters(index = "0", paramLabel = "INSTANCE|FILE",
            description = "An instance name, or a checkpoint file (a path with '/' or ending in .ferry; the newest of a chain).")
    String target;

    @Option(names = "--from", description = "Instance: the checkpoint file to restore (default: its newest).")
    String from;

    @Option(names = "--host", description = "Instance: the host to restore on (default: where it runs, or where there is room).")
    String host;

    Path file;

    @Option(names = "--seconds", defaultValue = "0",
            description = "Stop the guest after this many seconds; 0 runs until it exits (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--disk", description = "Disk image to use instead of the path the checkpoint recorded.")
    Path disk;

    static boolean isFile(String target) {
        return target.contains("/") || target.endsWith(".ferry") || Files.isRegularFile(Path.of(target));
    }

    @Override
    public Integer call() throws Exception {
        if (!isFile(target)) {
            return restoreInstance();
        }
        file = Path.of(target);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Hypervisor h = KvmCheck.hypervisorOrExplain(err);
        if (h == null) {
            return FerryCli.KVM_UNAVAILABLE;
        }
        ConsoleOutput console = new ConsoleOutput();
        console.onLine(line -> {
            out.println(line);
            out.flush();
        });
        Vm vm;
        try {
            long t0 = System.nanoTime();
            vm = VmRestore.restore(file, console, disk);
            err.printf("ferry: restored %s in %.1f ms%n", file, (System.nanoTime() - t0) / 1e6);
            err.flush();
        } catch (IOException e) {
            return CheckpointErrors.explain(e, file, err);
        }
        Thread hook = new Thread(vm::close, "ferry-restore-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            vm.start();
            Optional<VmResult> ended = seconds > 0
                    ? vm.awaitResult(Duration.ofMillis((long) (seconds * 1000)))
                    : Optional.of(vm.result().join());
            VmResult result = ended.orElseGet(vm::stop);
            if (result instanceof VmResult.Failed f) {
                err.println("ferry: " + result.describe());
                err.println(f.registerDump());
                return FerryCli.GUEST_FAILED;
            }
            if (result instanceof VmResult.Exited e && e.code() != 0) {
                err.println("ferry: " + result.describe());
                return FerryCli.GUEST_FAILED;
            }
            return FerryCli.OK;
        } finally {
            vm.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // already running
            }
        }
    }

    private int restoreInstance() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (HostClient c = cluster.join()) {
            long t0 = System.nanoTime();
            RestoreResult r = ClusterOptions.orchestrator(c).restore(target, from, host);
            if (!r.getOk()) {
                spec.commandLine().getErr().println("ferry: restore of " + target + " failed: " + r.getError());
                return FerryCli.GUEST_FAILED;
            }
            out.printf("restored %s on %s at epoch %d from %s in %.1f ms%n", target, r.getHost(), r.getEpoch(),
                    r.getCheckpoint(), (System.nanoTime() - t0) / 1e6);
            return FerryCli.OK;
        }
    }
}
