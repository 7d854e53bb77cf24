package dev.ferry.capture.shadow;

import dev.ferry.capture.restore.RegisterAccess;
import dev.ferry.vmm.bus.AccessContext;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.bus.BusDevice;
import dev.ferry.vmm.bus.DeviceBus;
import dev.ferry.vmm.trap.TrapLog;

/** A device bus with a trap log, driven by a test acting as the guest (vCPU 0) or as the host. */
final class Bench {
    static final AccessContext GUEST = new AccessContext() {
        @Override
        public int vcpuId() {
            return 0;
        }

        @Override
        public void requestIdle(long nanos) {}

        @Override
        public void requestExit(int code) {}
    };

    final TrapLog log = new TrapLog();
    final DeviceBus bus = new DeviceBus(log);

    RegisterAccess hostAccess() {
        return new RegisterAccess() {
            @Override
            public long read(AddressSpace space, long address, int width) {
                return bus.hostRead(space, address, width);
            }

            @Override
            public void write(AddressSpace space, long address, int width, long value) {
                bus.hostWrite(space, address, width, value);
            }
        };
    }

    /** The device at {@code base} as the guest sees it: every access crosses the bus (and the trap log when ON). */
    BusDevice guestView(AddressSpace space, long base) {
        return new BusDevice() {
            @Override
            public String name() {
                return "guest view";
            }

            @Override
            public long read(AccessContext ctx, long offset, int width) {
                return bus.read(GUEST, space, base + offset, width);
            }

            @Override
            public void write(AccessContext ctx, long offset, int width, long value) {
                bus.write(GUEST, space, base + offset, width, value);
            }
        };
    }
}
