package dev.ferry.cli;

import dev.ferry.capture.checkpoint.CheckpointInfo;
import dev.ferry.capture.checkpoint.CheckpointReader;
import dev.ferry.capture.checkpoint.SectionInfo;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.restore.RestorePlanCodec;
import dev.ferry.capture.restore.StateItem;
import dev.ferry.vmm.memory.MemorySize;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "checkpoint-info", description = "Verify a checkpoint file and print its version, sections, sizes and parent.")
final class CheckpointInfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", description = "The checkpoint file.")
    Path file;

    @Option(names = "--devices", description = "Also print each device's state report.")
    boolean devices;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (CheckpointReader r = CheckpointReader.open(file)) {
            CheckpointInfo info = r.info();
            var m = info.meta();
            out.printf("file:        %s (%d bytes)%n", info.file(), info.fileBytes());
            out.printf("version:     %s%n", info.version());
            out.printf("id:          %s%n", m.id());
            out.printf("parent:      %s%n", m.parent().map(p -> p.fileName() + " (" + p.id() + ")").orElse("none (full)"));
            out.printf("created:     %s%n", m.created());
            out.printf("vm:          %s (guest %s, %s of RAM)%n", m.vmName(), m.guestName(), MemorySize.format(m.memorySize()));
            for (Map.Entry<String, String> a : m.attributes().entrySet()) {
                out.printf("attribute:   %s=%s%n", a.getKey(), a.getValue());
            }
            var mem = info.memory();
            out.printf("memory:      %d pages (%d zero, %d with data), %d bytes stored for %d raw%n", mem.pages(),
                    mem.zeroPages(), mem.dataPages(), mem.storedBytes(), mem.rawBytes());
            out.println("sections:");
            for (SectionInfo s : info.sections()) {
                out.printf("  %-40s %d bytes%n", s.describe(), s.length());
            }
            out.println("trap log:    " + new String(r.trapLogSummary(), StandardCharsets.UTF_8));
            for (Map.Entry<String, byte[]> d : r.devices().entrySet()) {
                RestorePlan plan = RestorePlanCodec.decode(d.getValue());
                out.printf("device:      %s (%s at %s 0x%x): %d restore writes%n", plan.device(), plan.kind(),
                        plan.space(), plan.base(), plan.writes().size());
                if (devices) {
                    for (StateItem i : plan.report()) {
                        out.printf("    %-34s %-24s %s%n", i.state(), i.handling(), i.detail());
                    }
                }
            }
            out.flush();
            return FerryCli.OK;
        } catch (IOException e) {
            return CheckpointErrors.explain(e, file, err);
        }
    }
}
