package dev.ferry.capture;

import dev.ferry.capture.checkpoint.CheckpointContents;
import dev.ferry.capture.checkpoint.CheckpointMeta;
import dev.ferry.capture.checkpoint.CheckpointWriter;
import dev.ferry.capture.checkpoint.PageSelection;
import dev.ferry.capture.checkpoint.ParentRef;
import dev.ferry.capture.checkpoint.WriteReport;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.restore.RestorePlanCodec;
import dev.ferry.capture.shadow.DeviceCapture;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.PageBitmap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Checkpoints a running VM. The first checkpoint is full; it switches virtualization ON (devices are read back, dirty
 * logging starts) and leaves it ON, so every later checkpoint is incremental: exactly the pages dirtied since the
 * previous one, naming it as parent. The guest is paused only while a checkpoint is written.
 */
public final class VmCheckpointer {
    public static final String DISK_ATTRIBUTE = "disk";
    /** The line the guest was in the middle of printing, so the restored console completes it. */
    public static final String CONSOLE_PARTIAL_ATTRIBUTE = "console.partial-line";

    private final Vm vm;
    private final String guestName;
    private final Map<String, String> attributes;
    private final DeviceCapture capture;
    private final CheckpointWriter writer = new CheckpointWriter();
    private final PageBitmap dirty;
    private CheckpointMeta last;
    private Path lastFile;

    private VmCheckpointer(Vm vm, String guestName, Map<String, String> attributes, DeviceCapture capture) {
        this.vm = vm;
        this.guestName = guestName;
        this.attributes = Map.copyOf(attributes);
        this.capture = capture;
        this.dirty = vm.newPageBitmap();
    }

    private static Map<String, String> diskAttributes(Path disk) {
        Map<String, String> attrs = new LinkedHashMap<>();
        if (disk != null) {
            attrs.put(DISK_ATTRIBUTE, disk.toAbsolutePath().toString());
        }
        return attrs;
    }

    /**
     * Prepares to checkpoint {@code vm}, which must not have started yet or be paused (its devices are read once
     * now). {@code disk}, if any, is recorded so a restore finds the image; the image itself is not copied.
     */
    public static VmCheckpointer attach(Vm vm, String guestName, Path disk) {
        return new VmCheckpointer(vm, guestName, diskAttributes(disk), VmDeviceCapture.attach(vm));
    }

    /**
     * Writes one self-contained (full) checkpoint of a running VM whose devices {@code capture} already shadows
     * (a host keeps one per VM). Virtualization goes ON for the capture (the devices are read back, so whatever
     * happened while it was OFF is known), the guest is paused only while the file is written, and virtualization
     * returns to what it was before.
     */
    public static WriteReport writeFull(Vm vm, String guestName, DeviceCapture capture, Path disk, Path file)
            throws IOException {
        // the VM may be stopped by another thread meanwhile: its RAM stays mapped until the file is written
        try (GuestMemory.Hold ram = vm.memory().hold()) {
            Virtualization before = vm.virtualization();
            try {
                return new VmCheckpointer(vm, guestName, diskAttributes(disk), capture).checkpoint(file, true);
            } finally {
                vm.setVirtualization(before);
            }
        }
    }

    public DeviceCapture deviceCapture() {
        return capture;
    }

    /**
     * Writes a checkpoint to {@code file}: full the first time, incremental after. The VM is paused while it is
     * written, and resumed afterwards when {@code resume} is true.
     */
    public synchronized WriteReport checkpoint(Path file, boolean resume) throws IOException {
        vm.setVirtualization(Virtualization.ON);
        vm.pause();
        try {
            String id = UUID.randomUUID().toString();
            Instant now = Instant.now();
            CheckpointMeta meta;
            PageSelection pages;
            dirty.clear();
            vm.fetchDirtyPages(dirty);
            Map<String, String> attrs = new LinkedHashMap<>(attributes);
            String partial = vm.console().partialLine();
            String tail = vm.console().lastLine();
            if (!partial.isEmpty()) {
                attrs.put(CONSOLE_PARTIAL_ATTRIBUTE, partial);
            }
            if (last == null) {
                meta = CheckpointMeta.full(id, now, vm.name(), guestName, vm.memory().size(), attrs);
                pages = PageSelection.populated();
            } else {
                meta = new CheckpointMeta(id, java.util.Optional.of(ParentRef.of(last, lastFile)), now, vm.name(),
                        guestName, vm.memory().size(), attrs);
                pages = PageSelection.dirty(dirty);
            }
            Map<String, byte[]> devices = new LinkedHashMap<>();
            for (RestorePlan p : capture.plans()) {
                devices.put(p.device(), RestorePlanCodec.encode(p));
            }
            byte[] trapSummary = ("trap-log records=" + vm.trapLog().nextSeq() + " on-switches="
                    + vm.trapLog().onSwitches() + " shadow-accesses=" + capture.appliedAccesses()
                    + " resyncs=" + capture.resyncs()).getBytes(StandardCharsets.UTF_8);
            WriteReport report = writer.write(file, new CheckpointContents(meta, vm.captureMachineState(), devices,
                    trapSummary), vm.memory(), pages).withConsoleTail(tail);
            last = meta;
            lastFile = file;
            return report;
        } finally {
            if (resume) {
                vm.resume();
            }
        }
    }
}
