package dev.ferry.capture.checkpoint;

import dev.ferry.protocol.v1.MachineProto;
import dev.ferry.vmm.kvm.ClockData;
import dev.ferry.vmm.kvm.DescriptorTable;
import dev.ferry.vmm.kvm.MsrEntry;
import dev.ferry.vmm.kvm.Regs;
import dev.ferry.vmm.kvm.Segment;
import dev.ferry.vmm.kvm.Sregs;
import dev.ferry.vmm.kvm.Xcr;
import dev.ferry.vmm.state.MachineState;
import dev.ferry.vmm.state.VcpuState;
import dev.ferry.vmm.state.VmState;
import com.google.protobuf.ByteString;
import java.util.List;

/**
 * Converts vmm-core's machine-state records to and from the {@code ferry.v1} messages of {@code machine.proto}.
 * Decoding refuses messages that lack a required part ({@link IllegalArgumentException} saying which).
 */
public final class MachineStateCodec {
    private MachineStateCodec() {}

    public static MachineProto.MachineState encode(MachineState state) {
        MachineProto.MachineState.Builder b = MachineProto.MachineState.newBuilder().setVm(encode(state.vm()));
        state.vcpus().forEach(v -> b.addVcpus(encode(v)));
        return b.build();
    }

    public static MachineState decode(MachineProto.MachineState m) {
        require(m.hasVm(), "machine state", "vm");
        return new MachineState(decode(m.getVm()), m.getVcpusList().stream().map(MachineStateCodec::decode).toList());
    }

    static MachineProto.VmState encode(VmState vm) {
        MachineProto.VmState.Builder b = MachineProto.VmState.newBuilder()
                .setClock(vm.clock().clock()).setClockFlags(vm.clock().flags());
        vm.irqchips().forEach(c -> b.addIrqchips(ByteString.copyFrom(c)));
        return b.build();
    }

    static VmState decode(MachineProto.VmState m) {
        return new VmState(new ClockData(m.getClock(), m.getClockFlags()),
                m.getIrqchipsList().stream().map(ByteString::toByteArray).toList());
    }

    static MachineProto.VcpuState encode(VcpuState v) {
        MachineProto.VcpuState.Builder b = MachineProto.VcpuState.newBuilder()
                .setId(v.id()).setRegs(encode(v.regs())).setSregs(encode(v.sregs()))
                .setXsave(ByteString.copyFrom(v.xsave())).setLapic(ByteString.copyFrom(v.lapic()))
                .setEvents(ByteString.copyFrom(v.events())).setMpState(v.mpState())
                .setDebugRegs(ByteString.copyFrom(v.debugRegs())).setTscKhz(v.tscKhz());
        v.xcrs().forEach(x -> b.addXcrs(MachineProto.Xcr.newBuilder().setIndex(x.index()).setValue(x.value())));
        v.msrs().forEach(m -> b.addMsrs(MachineProto.MsrEntry.newBuilder().setIndex(m.index()).setValue(m.value())));
        return b.build();
    }

    static VcpuState decode(MachineProto.VcpuState m) {
        require(m.hasRegs(), "vCPU " + m.getId(), "regs");
        require(m.hasSregs(), "vCPU " + m.getId(), "sregs");
        List<Xcr> xcrs = m.getXcrsList().stream().map(x -> new Xcr(x.getIndex(), x.getValue())).toList();
        List<MsrEntry> msrs = m.getMsrsList().stream().map(x -> new MsrEntry(x.getIndex(), x.getValue())).toList();
        return new VcpuState(m.getId(), decode(m.getRegs()), decode(m.getSregs()), m.getXsave().toByteArray(), xcrs,
                msrs, m.getLapic().toByteArray(), m.getEvents().toByteArray(), m.getMpState(),
                m.getDebugRegs().toByteArray(), m.getTscKhz());
    }

    static MachineProto.Regs encode(Regs r) {
        return MachineProto.Regs.newBuilder()
                .setRax(r.rax()).setRbx(r.rbx()).setRcx(r.rcx()).setRdx(r.rdx())
                .setRsi(r.rsi()).setRdi(r.rdi()).setRsp(r.rsp()).setRbp(r.rbp())
                .setR8(r.r8()).setR9(r.r9()).setR10(r.r10()).setR11(r.r11())
                .setR12(r.r12()).setR13(r.r13()).setR14(r.r14()).setR15(r.r15())
                .setRip(r.rip()).setRflags(r.rflags()).build();
    }

    static Regs decode(MachineProto.Regs m) {
        return new Regs(m.getRax(), m.getRbx(), m.getRcx(), m.getRdx(), m.getRsi(), m.getRdi(), m.getRsp(),
                m.getRbp(), m.getR8(), m.getR9(), m.getR10(), m.getR11(), m.getR12(), m.getR13(), m.getR14(),
                m.getR15(), m.getRip(), m.getRflags());
    }

    static MachineProto.Sregs encode(Sregs s) {
        MachineProto.Sregs.Builder b = MachineProto.Sregs.newBuilder()
                .setCs(encode(s.cs())).setDs(encode(s.ds())).setEs(encode(s.es())).setFs(encode(s.fs()))
                .setGs(encode(s.gs())).setSs(encode(s.ss())).setTr(encode(s.tr())).setLdt(encode(s.ldt()))
                .setGdt(encode(s.gdt())).setIdt(encode(s.idt()))
                .setCr0(s.cr0()).setCr2(s.cr2()).setCr3(s.cr3()).setCr4(s.cr4()).setCr8(s.cr8())
                .setEfer(s.efer()).setApicBase(s.apicBase());
        for (long w : s.interruptBitmap()) {
            b.addInterruptBitmap(w);
        }
        return b.build();
    }

    static Sregs decode(MachineProto.Sregs m) {
        String where = "special registers";
        for (String field : List.of("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt", "gdt", "idt")) {
            require(m.hasField(MachineProto.Sregs.getDescriptor().findFieldByName(field)), where, field);
        }
        long[] bitmap = m.getInterruptBitmapList().stream().mapToLong(Long::longValue).toArray();
        return new Sregs(decode(m.getCs()), decode(m.getDs()), decode(m.getEs()), decode(m.getFs()),
                decode(m.getGs()), decode(m.getSs()), decode(m.getTr()), decode(m.getLdt()),
                decode(m.getGdt()), decode(m.getIdt()),
                m.getCr0(), m.getCr2(), m.getCr3(), m.getCr4(), m.getCr8(), m.getEfer(), m.getApicBase(), bitmap);
    }

    static MachineProto.Segment encode(Segment s) {
        return MachineProto.Segment.newBuilder()
                .setBase(s.base()).setLimit(s.limit()).setSelector(s.selector()).setType(s.type())
                .setPresent(s.present()).setDpl(s.dpl()).setDb(s.db()).setS(s.s()).setL(s.l()).setG(s.g())
                .setAvl(s.avl()).setUnusable(s.unusable()).build();
    }

    static Segment decode(MachineProto.Segment m) {
        return new Segment(m.getBase(), m.getLimit(), m.getSelector(), m.getType(), m.getPresent(), m.getDpl(),
                m.getDb(), m.getS(), m.getL(), m.getG(), m.getAvl(), m.getUnusable());
    }

    static MachineProto.DescriptorTable encode(DescriptorTable t) {
        return MachineProto.DescriptorTable.newBuilder().setBase(t.base()).setLimit(t.limit()).build();
    }

    static DescriptorTable decode(MachineProto.DescriptorTable m) {
        return new DescriptorTable(m.getBase(), m.getLimit());
    }

    private static void require(boolean present, String where, String field) {
        if (!present) {
            throw new IllegalArgumentException(where + " has no " + field);
        }
    }
}
