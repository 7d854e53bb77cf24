package dev.ferry.capture;

import dev.ferry.capture.restore.PlanExecutor;
import dev.ferry.capture.restore.RegisterAccess;
import dev.ferry.capture.restore.RestorePlan;
import dev.ferry.capture.shadow.DeviceCapture;
import dev.ferry.capture.shadow.DeviceShadow;
import dev.ferry.capture.shadow.UartShadow;
import dev.ferry.capture.shadow.VirtioMmioShadow;
import dev.ferry.vmm.Virtualization;
import dev.ferry.vmm.Vm;
import dev.ferry.vmm.bus.ActiveDevice;
import dev.ferry.vmm.bus.AddressSpace;
import dev.ferry.vmm.devices.uart.Uart16550;
import dev.ferry.vmm.devices.virtio.VirtioMmioDevice;
import java.util.ArrayList;
import java.util.List;

/** Device state capture for a whole {@link Vm}: shadows for its UART and virtio devices, fed by its trap log. */
public final class VmDeviceCapture {
    public static final String UART = "uart0";
    public static final String DISK = "virtio-blk0";

    private VmDeviceCapture() {}

    /** Host register access through the VM's bus. */
    public static RegisterAccess access(Vm vm) {
        return new RegisterAccess() {
            @Override
            public long read(AddressSpace space, long address, int width) {
                return vm.hostRead(space, address, width);
            }

            @Override
            public void write(AddressSpace space, long address, int width, long value) {
                vm.hostWrite(space, address, width, value);
            }
        };
    }

    /**
     * Starts shadowing the VM's devices. Call before the VM starts, or with it paused: the devices are read back
     * once now.
     */
    public static DeviceCapture attach(Vm vm) {
        List<DeviceShadow> shadows = new ArrayList<>();
        shadows.add(new UartShadow(UART, Uart16550.COM1));
        for (ActiveDevice d : vm.activeDevices()) {
            if (d instanceof VirtioMmioDevice v) {
                shadows.add(new VirtioMmioShadow(DISK, v.base(), vm.memory()));
            }
        }
        return DeviceCapture.attach(vm.trapLog(), access(vm), vm.virtualization() == Virtualization.ON, shadows);
    }

    /** Applies restore plans to a restored VM's devices, by name; call after its memory is restored, before start. */
    public static void restore(Vm vm, List<RestorePlan> plans) {
        RegisterAccess a = access(vm);
        for (RestorePlan p : plans) {
            PlanExecutor.apply(p, a);
        }
    }
}
