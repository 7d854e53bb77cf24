package dev.ferry.capture.shadow;

import dev.ferry.capture.spec.DeviceSpec;

/** What every shadow has: the device's spec, its instance name and its base address. */
abstract class ShadowBase implements DeviceShadow {
    private final DeviceSpec spec;
    final String name;
    final long base;

    ShadowBase(DeviceSpec spec, String name, long base) {
        this.spec = spec;
        this.name = name;
        this.base = base;
    }

    @Override
    public final DeviceSpec spec() {
        return spec;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final long base() {
        return base;
    }
}
