package dev.ferry.capture.restore;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.protocol.v1.AddressSpaceKind;
import dev.ferry.protocol.v1.DeviceRestorePlan;
import dev.ferry.protocol.v1.StateHandling;
import dev.ferry.vmm.bus.AddressSpace;
import java.util.ArrayList;
import java.util.List;

/** Converts restore plans to and from their protobuf form ({@code ferry/v1/device.proto}), refusing bad input. */
public final class RestorePlanCodec {
    private static final int MAX_WRITES = 4096;

    private RestorePlanCodec() {}

    public static byte[] encode(RestorePlan plan) {
        DeviceRestorePlan.Builder b = DeviceRestorePlan.newBuilder().setDevice(plan.device()).setKind(plan.kind())
                .setSpace(plan.space() == AddressSpace.PIO ? AddressSpaceKind.ADDRESS_SPACE_PIO
                        : AddressSpaceKind.ADDRESS_SPACE_MMIO)
                .setBase(plan.base());
        for (RegisterWrite w : plan.writes()) {
            b.addWrites(dev.ferry.protocol.v1.RegisterWrite.newBuilder().setOffset(w.offset()).setWidth(w.width())
                    .setValue(w.value()).setNote(w.note()));
        }
        for (StateItem i : plan.report()) {
            b.addReport(dev.ferry.protocol.v1.StateItem.newBuilder().setState(i.state())
                    .setHandling(StateHandling.forNumber(i.handling().ordinal() + 1)).setDetail(i.detail()));
        }
        return b.build().toByteArray();
    }

    /** Decodes a plan; throws {@link IllegalArgumentException} naming what is wrong. */
    public static RestorePlan decode(byte[] bytes) {
        DeviceRestorePlan p;
        try {
            p = DeviceRestorePlan.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("device restore plan is not a valid DeviceRestorePlan message: "
                    + e.getMessage());
        }
        AddressSpace space = switch (p.getSpace()) {
            case ADDRESS_SPACE_PIO -> AddressSpace.PIO;
            case ADDRESS_SPACE_MMIO -> AddressSpace.MMIO;
            default -> throw new IllegalArgumentException("device " + p.getDevice() + " has no address space");
        };
        if (p.getWritesCount() > MAX_WRITES) {
            throw new IllegalArgumentException("device " + p.getDevice() + " plan has " + p.getWritesCount()
                    + " writes; at most " + MAX_WRITES);
        }
        List<RegisterWrite> writes = new ArrayList<>();
        for (var w : p.getWritesList()) {
            if (w.getWidth() != 1 && w.getWidth() != 2 && w.getWidth() != 4 && w.getWidth() != 8) {
                throw new IllegalArgumentException("device " + p.getDevice() + " plan writes " + w.getWidth()
                        + " bytes at +0x" + Long.toHexString(w.getOffset()) + "; widths are 1, 2, 4 or 8");
            }
            writes.add(new RegisterWrite(w.getOffset(), w.getWidth(), w.getValue(), w.getNote()));
        }
        List<StateItem> report = new ArrayList<>();
        Handling[] handlings = Handling.values();
        for (var i : p.getReportList()) {
            int n = i.getHandlingValue() - 1;
            if (n < 0 || n >= handlings.length) {
                throw new IllegalArgumentException("device " + p.getDevice() + " report names unknown handling "
                        + i.getHandlingValue());
            }
            report.add(new StateItem(p.getDevice(), i.getState(), handlings[n], i.getDetail()));
        }
        return new RestorePlan(p.getDevice(), p.getKind(), space, p.getBase(), writes, report);
    }
}
