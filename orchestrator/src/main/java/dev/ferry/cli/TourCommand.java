package dev.ferry.cli;

import dev.ferry.vmm.Hypervisor;
import dev.ferry.vmm.SwitchReport;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.VmConfig;
import dev.ferry.vmm.VmResult;
import dev.ferry.vmm.boot.GuestImage;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.memory.PageBitmap;
import dev.ferry.vmm.state.MachineState;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The tour of what a host can do: run a guest with virtualization OFF, switch it ON (trap log and dirty
 * pages), switch it OFF again, then capture it and continue it in a new VM, checking its count carries on.
 */
@Command(name = "tour", description = "One host, one process: run a guest, switch virtualization on and off, and move it into a new VM while it runs.")
final class TourCommand implements Callable<Integer> {
    private static final Pattern BEAT = Pattern.compile("heartbeat seq=(\\d+) tsc=(\\d+) sum=([0-9a-f]+)");

    @Spec
    CommandSpec spec;

    @Option(names = "--memory", defaultValue = "256M", converter = MemorySizeConverter.class,
            description = "Guest RAM (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--phase-seconds", defaultValue = "1.5", description = "How long each phase runs (default: ${DEFAULT-VALUE}).")
    double phaseSeconds;

    private record Step(String what, String figure, boolean ok) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Hypervisor h = KvmCheck.hypervisorOrExplain(spec.commandLine().getErr());
        if (h == null) {
            return FerryCli.KVM_UNAVAILABLE;
        }
        long phaseMillis = (long) (phaseSeconds * 1000);
        List<Step> steps = new ArrayList<>();
        List<long[]> beats = new CopyOnWriteArrayList<>();
        List<Vm> live = new CopyOnWriteArrayList<>();
        Thread hook = new Thread(() -> live.forEach(Vm::close), "ferry-tour-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            out.println("== 1. boot heartbeat (" + dev.ferry.vmm.memory.MemorySize.format(memory)
                    + ") with virtualization OFF");
            long t0 = System.nanoTime();
            Vm first = h.boot(new VmConfig("tour-a", GuestImage.load("heartbeat"), memory, Map.of(),
                    console(out, "a", beats)));
            live.add(first);
            first.start();
            waitBeats(beats, 1, 10_000);
            steps.add(new Step("boot to first heartbeat", ms(System.nanoTime() - t0), true));
            Thread.sleep(phaseMillis);
            steps.add(new Step("trap log while OFF", first.trapLog().nextSeq() + " records", first.trapLog().nextSeq() == 0));

            out.println("== 2. virtualization ON: every device access trapped, dirty pages logged");
            SwitchReport on = first.setVirtualization(Virtualization.ON);
            steps.add(new Step("switch ON (guest paused)", ms(on.pausedNanos()), true));
            PageBitmap dirty = first.newPageBitmap();
            first.fetchDirtyPages(dirty);
            dirty.clear();
            Thread.sleep(phaseMillis);
            long trapped = first.trapLog().nextSeq();
            first.fetchDirtyPages(dirty);
            steps.add(new Step("trapped register accesses", trapped + " in " + phaseSeconds + " s", trapped > 0));
            steps.add(new Step("pages dirtied", dirty.count() + " of " + dirty.pages(), dirty.count() > 0));
            SwitchReport off = first.setVirtualization(Virtualization.OFF);
            steps.add(new Step("switch OFF (guest paused)", ms(off.pausedNanos()), true));
            out.println("== 3. capture the running guest and continue it in a new VM");
            Thread.sleep(phaseMillis / 2);
            long pause = first.pause();
            long tMove = System.nanoTime();
            long lastSeq = beats.get(beats.size() - 1)[0];
            long lastTsc = beats.get(beats.size() - 1)[1];
            MachineState state = first.captureMachineState();
            ConsoleOutput continued = console(out, "b", beats);
            // The guest may have been paused in the middle of a line: the new VM's console completes it.
            continued.prefill(first.console().partialLine());
            Vm second = h.restore("tour-b", memory, state, continued);
            live.add(second);
            long pages = first.memory().copyNonZeroPagesTo(second.memory());
            boolean sameMemory = first.memory().checksum() == second.memory().checksum();
            first.close();
            live.remove(first);
            int before = beats.size();
            second.start();
            long moveNanos = System.nanoTime() - tMove + pause;
            long[] next = waitBeats(beats, before + 1, 10_000).get(before);
            steps.add(new Step("capture + restore into new VM", ms(moveNanos) + ", " + pages + " pages copied", sameMemory));
            boolean carriedOn = next[0] == lastSeq + 1 && next[1] > lastTsc;
            steps.add(new Step("heartbeat continues", "seq " + lastSeq + " -> " + next[0], carriedOn));
            Thread.sleep(phaseMillis);
            VmResult end = second.stop();
            second.close();
            live.remove(second);
            steps.add(new Step("guest still healthy at the end", end.describe(), end instanceof VmResult.Stopped));
        } finally {
            live.forEach(Vm::close);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // already running
            }
        }
        out.println();
        out.printf("%-34s %-36s %s%n", "step", "measured", "ok");
        boolean all = true;
        for (Step s : steps) {
            out.printf("%-34s %-36s %s%n", s.what(), s.figure(), s.ok() ? "yes" : "NO");
            all &= s.ok();
        }
        out.flush();
        return all ? FerryCli.OK : FerryCli.GUEST_FAILED;
    }

    private static ConsoleOutput console(PrintWriter out, String tag, List<long[]> beats) {
        ConsoleOutput c = new ConsoleOutput();
        c.onLine(line -> {
            Matcher m = BEAT.matcher(line);
            if (m.matches()) {
                beats.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
            }
            out.println("  [" + tag + "] " + line);
            out.flush();
        });
        return c;
    }

    private static List<long[]> waitBeats(List<long[]> beats, int n, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (beats.size() < n) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("the guest printed no heartbeat within " + timeoutMillis + " ms");
            }
            Thread.sleep(5);
        }
        return beats;
    }

    private static String ms(long nanos) {
        return String.format("%.2f ms", nanos / 1e6);
    }
}
