package dev.ferry.vmm;

import dev.ferry.vmm.boot.GuestImage;
import dev.ferry.vmm.console.ConsoleOutput;
import dev.ferry.vmm.memory.MemoryLayout;
import java.util.Map;

/** What to boot: a guest image, its RAM size and arguments, and where its console goes. */
public record VmConfig(String name, GuestImage image, long memorySize, Map<String, String> args, ConsoleOutput console) {
    public VmConfig {
        MemoryLayout.validate(memorySize);
        args = Map.copyOf(args);
        if (name == null || name.isBlank()) {
            name = image.name();
        }
    }

    public static VmConfig of(String guest, long memorySize, Map<String, String> args) {
        return new VmConfig(guest, GuestImage.load(guest), memorySize, args, new ConsoleOutput());
    }
}
