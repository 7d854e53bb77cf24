package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.state.MachineState;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything a checkpoint holds besides guest memory: its metadata, the machine state, each device's state
 * (opaque bytes by device name, written in name order) and the trap log's summary (opaque; empty for none).
 */
public record CheckpointContents(CheckpointMeta meta, MachineState machine, Map<String, byte[]> devices,
                                 byte[] trapLogSummary) {
    public CheckpointContents {
        TreeMap<String, byte[]> d = new TreeMap<>();
        devices.forEach((name, state) -> d.put(new DeviceSection(name, state).name(), state.clone()));
        devices = Collections.unmodifiableMap(d);
        trapLogSummary = trapLogSummary.clone();
    }

    @Override
    public byte[] trapLogSummary() {
        return trapLogSummary.clone();
    }
}
