package dev.ferry.capture.checkpoint;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.protocol.v1.MachineProto;
import dev.ferry.vmm.memory.GuestMemory;
import dev.ferry.vmm.state.MachineState;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An open checkpoint file, verified whole when opened: frame, every section's CRC, every memory block
 * (decoded, not applied), the section rules (META first; one MACHINE, one MEMORY, at most one TRAPLOG; device
 * names unique). Anything else is a {@link CheckpointFormatException}. Then {@link #applyMemory} writes the
 * pages into a guest, checking each block again before writing it.
 */
public final class CheckpointReader implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final FormatVersion version;
    private final List<SectionInfo> sections;
    private final CheckpointMeta meta;
    private final MachineState machine;
    private final Map<String, byte[]> devices;
    private final byte[] trapLog;
    private final FileScan.Section memorySection;
    private final MemoryStats memory;

    private CheckpointReader(Path file, FileChannel channel, FileScan scan) throws IOException {
        this.file = file;
        this.channel = channel;
        this.version = scan.header().version();
        List<SectionInfo> infos = new ArrayList<>();
        Map<SectionType, FileScan.Section> singles = new EnumMap<>(SectionType.class);
        Map<String, byte[]> devs = new TreeMap<>();
        Map<String, SectionInfo> deviceSections = new TreeMap<>();
        for (FileScan.Section s : scan.sections()) {
            SectionInfo info = s.info();
            infos.add(info);
            SectionType type = info.knownType();
            if ((info.index() == 0) != (type == SectionType.META)) {
                throw CheckpointFormatException.misplaced(file, info, "META must be the first section, and only it");
            }
            if (type == SectionType.DEVICE) {
                DeviceSection d = decode(info, () -> DeviceSection.decode(s.payload()));
                SectionInfo first = deviceSections.putIfAbsent(d.name(), info);
                if (first != null) {
                    throw CheckpointFormatException.duplicate(file, info, first);
                }
                devs.put(d.name(), d.state());
            } else if (type != null) {
                FileScan.Section first = singles.putIfAbsent(type, s);
                if (first != null) {
                    throw CheckpointFormatException.duplicate(file, info, first.info());
                }
            }
        }
        for (SectionType required : List.of(SectionType.META, SectionType.MACHINE, SectionType.MEMORY)) {
            if (!singles.containsKey(required)) {
                throw CheckpointFormatException.missing(file, required);
            }
        }
        FileScan.Section m = singles.get(SectionType.META);
        this.meta = decode(m.info(), () -> MetaCodec.decode(MachineProto.CheckpointMeta.parseFrom(m.payload())));
        FileScan.Section ms = singles.get(SectionType.MACHINE);
        this.machine = decode(ms.info(),
                () -> MachineStateCodec.decode(MachineProto.MachineState.parseFrom(ms.payload())));
        this.sections = List.copyOf(infos);
        this.devices = Collections.unmodifiableMap(devs);
        FileScan.Section t = singles.get(SectionType.TRAPLOG);
        this.trapLog = t == null ? new byte[0] : t.payload();
        this.memorySection = singles.get(SectionType.MEMORY);
        this.memory = memoryReader().read(null);
    }

    /** Opens and verifies {@code file}. */
    public static CheckpointReader open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new CheckpointReader(file, channel, FileScan.read(file, channel));
        } catch (IOException | RuntimeException | Error e) {
            try {
                channel.close();
            } catch (IOException c) {
                e.addSuppressed(c);
            }
            throw e;
        }
    }

    /** Verifies {@code file} and describes it. */
    public static CheckpointInfo info(Path file) throws IOException {
        try (CheckpointReader r = open(file)) {
            return r.info();
        }
    }

    public CheckpointInfo info() throws IOException {
        return new CheckpointInfo(file, channel.size(), version, meta, sections, memory);
    }

    public Path file() {
        return file;
    }

    public CheckpointMeta meta() {
        return meta;
    }

    public MachineState machineState() {
        return machine;
    }

    /** Each device's state by name (copies). */
    public Map<String, byte[]> devices() {
        Map<String, byte[]> copy = new TreeMap<>();
        devices.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    /** The trap log's summary; empty when the checkpoint has none. */
    public byte[] trapLogSummary() {
        return trapLog.clone();
    }

    /**
     * Writes this checkpoint's pages into {@code target}, a guest of the same memory size: for a full
     * checkpoint freshly allocated (all zero), for an incremental one holding its parent chain already.
     */
    public MemoryStats applyMemory(GuestMemory target) throws IOException {
        if (target.size() != meta.memorySize()) {
            throw new IllegalArgumentException("checkpoint " + file.getFileName() + " holds " + meta.memorySize()
                    + " bytes of memory; the target guest has " + target.size());
        }
        return memoryReader().read(target);
    }

    private MemorySectionReader memoryReader() {
        return new MemorySectionReader(file, channel, memorySection.info(), memorySection.payloadCrc(), meta);
    }

    private interface Decoding<T> {
        T decode() throws InvalidProtocolBufferException;
    }

    private <T> T decode(SectionInfo s, Decoding<T> d) throws CheckpointFormatException {
        try {
            return d.decode();
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw CheckpointFormatException.badPayload(file, s, "does not decode: " + e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
