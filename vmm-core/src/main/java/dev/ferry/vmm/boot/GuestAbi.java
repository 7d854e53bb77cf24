package dev.ferry.vmm.boot;

/** The numbers of the guest ABI ({@code guests/ABI.md}), in one place. */
public final class GuestAbi {
    public static final int VERSION = 1;
    public static final int BOOT_MAGIC = 0x59525246;

    public static final long GDT = 0x1000;
    public static final long TSS = 0x2000;
    /** TSS header (104 bytes) + I/O permission bitmap (8192 bytes, every port allowed) + its 0xFF end byte. */
    public static final int TSS_HEADER = 104;
    public static final int IO_BITMAP_BYTES = 8192;
    public static final int TSS_LIMIT = TSS_HEADER + IO_BITMAP_BYTES;
    public static final long BOOT_INFO = 0x8000;
    public static final long PML4 = 0x10000;
    public static final long PDPT = 0x11000;
    public static final long PD_BASE = 0x12000;
    public static final int MAX_PD_PAGES = 64;
    public static final long STACK_TOP = 0x100000;
    public static final long IMAGE_BASE = 0x100000;

    public static final int SEL_USER_DATA = 0x18 | 3;
    public static final int SEL_USER_CODE = 0x20 | 3;
    public static final int SEL_TSS = 0x28;

    public static final long RFLAGS_ENTRY = 0x3002;

    public static final int BOOT_ARGS_OFFSET = 256;
    public static final int BOOT_ARGS_MAX = 2047;

    private GuestAbi() {}
}
