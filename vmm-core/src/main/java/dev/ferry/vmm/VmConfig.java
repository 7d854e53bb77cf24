package dev.ferry.vmm;

import dev.ferry.vmm.boot.GuestImage;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.devices.virtio.blk.BlockStore;
import dev.ferry.vmm.memory.MemoryLayout;
import java.nio.file.Path;
import java.util.Map;

/** What to boot: a guest image, its RAM size and arguments, where its console goes, and its disk, if any
 * (an image file, or any {@link BlockStore}). */
public record VmConfig(String name, GuestImage image, long memorySize, Map<String, String> args, ConsoleOutput console,
                       Path disk, BlockStore diskStore) {
    public VmConfig {
        MemoryLayout.validate(memorySize);
        args = Map.copyOf(args);
        if (name == null || name.isBlank()) {
            name = image.name();
        }
    }

    public VmConfig(String name, GuestImage image, long memorySize, Map<String, String> args, ConsoleOutput console) {
        this(name, image, memorySize, args, console, null, null);
    }

    public static VmConfig of(String guest, long memorySize, Map<String, String> args) {
        return new VmConfig(guest, GuestImage.load(guest), memorySize, args, new ConsoleOutput());
    }

    /** The same VM with a virtio-blk disk backed by {@code image} (a file of whole 512-byte sectors). */
    public VmConfig withDisk(Path image) {
        return new VmConfig(name, this.image, memorySize, args, console, image, null);
    }

    /** The same VM with a virtio-blk disk over {@code store} (the VM closes it). */
    public VmConfig withDisk(BlockStore store) {
        return new VmConfig(name, this.image, memorySize, args, console, null, store);
    }
}
