package dev.ferry.vmm.devices.platform;

import dev.ferry.vmm.bus.AccessContext;
import dev.ferry.vmm.bus.BusDevice;

/**
 * The platform device of the guest ABI (port 0x500): idle with a timeout, exit with a code, and a no-op
 * register whose only effect is one VM exit round trip.
 */
public final class PlatformDevice implements BusDevice {
    public static final int BASE = 0x500;
    public static final int LENGTH = 12;
    public static final int IDLE_US = 0;
    public static final int EXIT = 4;
    public static final int PING = 8;

    private long idles;
    private long pings;

    @Override
    public String name() {
        return "platform";
    }

    @Override
    public synchronized long read(AccessContext ctx, long offset, int width) {
        return 0;
    }

    @Override
    public synchronized void write(AccessContext ctx, long offset, int width, long value) {
        switch ((int) offset) {
            case IDLE_US -> {
                idles++;
                ctx.requestIdle((value & 0xFFFFFFFFL) * 1000L);
            }
            case EXIT -> ctx.requestExit((int) value);
            case PING -> pings++;
            default -> { }
        }
    }

    public synchronized long idles() {
        return idles;
    }

    public synchronized long pings() {
        return pings;
    }
}
