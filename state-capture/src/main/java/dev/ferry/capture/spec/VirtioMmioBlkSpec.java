package dev.ferry.capture.spec;

import static dev.ferry.capture.spec.Access.*;
import static dev.ferry.capture.spec.Knowledge.*;

import dev.ferry.vmm.bus.AddressSpace;
import java.util.List;

/**
 * A virtio-blk device on the MMIO transport, version 2 (virtio 1.2, sections 4.2.2 and 5.2), as state capture sees
 * it. Ferry's device answers reads of the registers the specification marks write-only with their last value,
 * which is what makes them {@link Knowledge#READ_BACK} after an OFF period.
 */
public final class VirtioMmioBlkSpec {
    public static final DeviceSpec SPEC = new DeviceSpec("virtio-mmio-blk", AddressSpace.MMIO, 0x200, List.of(
            RegisterSpec.of("MagicValue", 0x000, 4, RO, READ_BACK).effects("constant 0x74726976"),
            RegisterSpec.of("Version", 0x004, 4, RO, READ_BACK).effects("constant 2"),
            RegisterSpec.of("DeviceID", 0x008, 4, RO, READ_BACK).effects("constant 2 (block)"),
            RegisterSpec.of("VendorID", 0x00c, 4, RO, READ_BACK),
            RegisterSpec.of("DeviceFeatures", 0x010, 4, RO, READ_BACK).banked("DeviceFeaturesSel"),
            RegisterSpec.of("DeviceFeaturesSel", 0x014, 4, WO, READ_BACK),
            RegisterSpec.of("DriverFeatures", 0x020, 4, WO, READ_BACK).banked("DriverFeaturesSel")
                    .effects("ignored once FEATURES_OK is set"),
            RegisterSpec.of("DriverFeaturesSel", 0x024, 4, WO, READ_BACK),
            RegisterSpec.of("QueueSel", 0x030, 4, WO, READ_BACK).effects("banks every Queue* register"),
            RegisterSpec.of("QueueNumMax", 0x034, 4, RO, READ_BACK).banked("QueueSel"),
            RegisterSpec.of("QueueNum", 0x038, 4, WO, READ_BACK).banked("QueueSel")
                    .effects("ignored while the queue is ready, or unless a power of two up to QueueNumMax"),
            RegisterSpec.of("QueueReady", 0x044, 4, RW, READ_BACK).banked("QueueSel")
                    .effects("1: the device takes its available-ring position from the used ring's idx"),
            RegisterSpec.of("QueueNotify", 0x050, 4, WO, DEVICE_INTERNAL)
                    .effects("doorbell: wakes the device; an ioeventfd while virtualization is OFF"),
            RegisterSpec.of("InterruptStatus", 0x060, 4, RO, DEVICE_INTERNAL)
                    .effects("bit 0 set by the device on each completion"),
            RegisterSpec.of("InterruptACK", 0x064, 4, W1C, DEVICE_INTERNAL).effects("clears InterruptStatus bits"),
            RegisterSpec.of("Status", 0x070, 4, RW, READ_BACK)
                    .effects("0 resets the device; FEATURES_OK is refused (reads back clear) for unoffered features"),
            RegisterSpec.of("QueueDescLow", 0x080, 4, WO, READ_BACK).banked("QueueSel"),
            RegisterSpec.of("QueueDescHigh", 0x084, 4, WO, READ_BACK).banked("QueueSel"),
            RegisterSpec.of("QueueDriverLow", 0x090, 4, WO, READ_BACK).banked("QueueSel"),
            RegisterSpec.of("QueueDriverHigh", 0x094, 4, WO, READ_BACK).banked("QueueSel"),
            RegisterSpec.of("QueueDeviceLow", 0x0a0, 4, WO, READ_BACK).banked("QueueSel"),
            RegisterSpec.of("QueueDeviceHigh", 0x0a4, 4, WO, READ_BACK).banked("QueueSel"),
            RegisterSpec.of("ConfigGeneration", 0x0fc, 4, RO, DEVICE_INTERNAL),
            RegisterSpec.of("capacity", 0x100, 8, RO, READ_BACK).effects("config space: size in 512-byte sectors"),
            RegisterSpec.of("avail.idx", -1, 2, RO, DERIVED_FROM_MEMORY)
                    .effects("guest memory at QueueDriver + 2: how many requests the driver offered"),
            RegisterSpec.of("used.idx", -1, 2, RO, DERIVED_FROM_MEMORY)
                    .effects("guest memory at QueueDevice + 2: how many the device completed; its next position")),
            List.of("Status 0 (reset), then ACKNOWLEDGE, then DRIVER",
                    "DriverFeatures (both halves, through DriverFeaturesSel) before FEATURES_OK",
                    "per queue: QueueSel, QueueNum and the three ring addresses before QueueReady",
                    "guest memory restored before QueueReady (the device reads used.idx then)",
                    "selectors back to their final values", "Status with DRIVER_OK last"));

    private VirtioMmioBlkSpec() {}
}
