package dev.ferry.vmm.boot;

import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.memory.MemoryRegion;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The boot-info page handed to the guest in RDI: TSC frequency, RAM map and {@code k=v} arguments. */
public record BootInfo(long tscKhz, long ramSize, List<MemoryRegion> regions, Map<String, String> args) {
    public BootInfo {
        args = Map.copyOf(args);
        for (Map.Entry<String, String> e : args.entrySet()) {
            if (!e.getKey().matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("guest argument name '" + e.getKey()
                        + "' must be letters, digits, '_', '.' or '-'");
            }
            if (e.getValue().isEmpty() || e.getValue().matches(".*[\\s=\\x00].*")) {
                throw new IllegalArgumentException("guest argument " + e.getKey() + "='" + e.getValue()
                        + "' must be non-empty without spaces or '='");
            }
        }
        if (encodedArgs(args).length > GuestAbi.BOOT_ARGS_MAX) {
            throw new IllegalArgumentException("guest arguments exceed " + GuestAbi.BOOT_ARGS_MAX + " bytes");
        }
        if (regions.size() > 4) {
            throw new IllegalArgumentException("at most 4 RAM regions");
        }
    }

    private static byte[] encodedArgs(Map<String, String> args) {
        return args.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "))
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Writes the page at {@link GuestAbi#BOOT_INFO}. */
    public void writeTo(GuestMemory memory) {
        ByteBuffer b = ByteBuffer.allocate(GuestMemory.PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, GuestAbi.BOOT_MAGIC);
        b.putInt(4, GuestAbi.VERSION);
        b.putLong(8, tscKhz);
        b.putLong(16, ramSize);
        b.putInt(24, regions.size());
        for (int i = 0; i < regions.size(); i++) {
            b.putLong(32 + 16 * i, regions.get(i).guestBase());
            b.putLong(40 + 16 * i, regions.get(i).size());
        }
        byte[] a = encodedArgs(args);
        b.put(GuestAbi.BOOT_ARGS_OFFSET, a);
        memory.write(GuestAbi.BOOT_INFO, b.array(), 0, GuestMemory.PAGE_SIZE);
    }
}
