package dev.ferry.bench;

import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import dev.ferry.vmm.VmResult;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/** Runs a {@link GuestSpec} on the Java core: boot with a console listener, and wait for the end with a limit. */
final class FerryGuest {
    private FerryGuest() {}

    /** Boots {@code guest} (not started) with {@code onLine} receiving each console line. */
    static Vm boot(Hypervisor hypervisor, GuestSpec guest, Consumer<String> onLine) {
        Vm vm = hypervisor.boot(VmConfig.of(guest.name(), guest.ramBytes(), guest.args()));
        vm.console().onLine(onLine);
        return vm;
    }

    /** Waits for {@code vm} to end; fails, naming the guest, unless it exited with code 0 within {@code limit}. */
    static VmResult awaitSuccess(Vm vm, GuestSpec guest, Duration limit) {
        Optional<VmResult> r;
        try {
            r = vm.awaitResult(limit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while Ferry ran " + guest, e);
        }
        if (r.isEmpty()) {
            throw new IllegalStateException("Ferry running " + guest + " did not end within " + limit);
        }
        if (!r.get().succeeded()) {
            throw new IllegalStateException("Ferry running " + guest + ": " + r.get().describe()
                    + (r.get() instanceof VmResult.Failed f ? "\n" + f.registerDump() : ""));
        }
        return r.get();
    }

    /** Waits until the guest printed a line containing {@code text}; fails after {@code limit}. */
    static String awaitLine(Vm vm, GuestSpec guest, String text, Duration limit) {
        try {
            String line = vm.console().awaitLine(text, limit.toMillis());
            if (line == null) {
                throw new IllegalStateException(guest + " on Ferry printed no '" + text + "' within " + limit
                        + (vm.result().isDone() ? "; it ended: " + vm.result().join().describe() : ""));
            }
            return line;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + guest, e);
        }
    }
}
