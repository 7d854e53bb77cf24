package dev.ferry.capture.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The frame of a checkpoint file, read and checked: header (magic, CRC, version), footer (CRC, length, section
 * count), and every section header (CRC, index, flags, type, length within the file and within its type's cap).
 * Small sections' payloads are read and their CRC checked here; MEMORY is checked by {@link MemorySectionReader},
 * unknown skippable sections are checked and dropped.
 */
record FileScan(FileHeader header, List<Section> sections) {
    /** Smallest possible file: header, footer, and nothing between. */
    static final long MINIMUM_FILE = FileHeader.BYTES + FileFooter.BYTES;
    /** At most this many bytes of small sections are held in memory at once. */
    static final long MAX_BUFFERED = 256L << 20;
    /** No file holds more sections than this. */
    static final int MAX_SECTIONS = 1 << 16;
    private static final int READ_BUFFER = 256 << 10;

    /** A section and, for the small known types, its payload (checked against its CRC). */
    record Section(SectionInfo info, int payloadCrc, byte[] payload) {}

    static FileScan read(Path file, FileChannel channel) throws IOException {
        long size = channel.size();
        byte[] start = SectionInput.readAt(file, channel, 0, (int) Math.min(size, FileHeader.BYTES));
        FileHeader header = FileHeader.decode(file, start, size, MINIMUM_FILE);
        byte[] end = SectionInput.readAt(file, channel, size - FileFooter.BYTES, FileFooter.BYTES);
        FileFooter footer = FileFooter.decode(file, end, size);

        List<Section> sections = new ArrayList<>();
        long sectionsEnd = size - FileFooter.BYTES;
        long pos = FileHeader.BYTES;
        long buffered = 0;
        while (pos < sectionsEnd) {
            int index = sections.size();
            if (index == MAX_SECTIONS) {
                throw CheckpointFormatException.tooManySections(file, pos, MAX_SECTIONS);
            }
            long available = sectionsEnd - pos;
            if (available < SectionHeader.BYTES) {
                throw CheckpointFormatException.sectionHeaderTruncated(file, index, pos, available);
            }
            byte[] h = SectionInput.readAt(file, channel, pos, SectionHeader.BYTES);
            SectionHeader sh = SectionHeader.decode(file, h, pos, index);
            SectionInfo s = sh.info(pos);
            if ((s.flags() & ~SectionInfo.MAY_SKIP) != 0) {
                throw CheckpointFormatException.unknownFlags(file, s);
            }
            SectionType type = s.knownType();
            if (type == null && !s.maySkip()) {
                throw CheckpointFormatException.unknownMandatory(file, s);
            }
            if (type != null && Long.compareUnsigned(s.length(), type.cap()) > 0) {
                throw CheckpointFormatException.sectionOverCap(file, s, type.cap());
            }
            if (Long.compareUnsigned(s.length(), available - SectionHeader.BYTES) > 0) {
                throw CheckpointFormatException.sectionPastEnd(file, s, available - SectionHeader.BYTES);
            }
            byte[] payload = null;
            if (type == null) {
                SectionInput in = new SectionInput(file, channel, s.payloadOffset(), s.length(), READ_BUFFER);
                in.skip(s.length());
                checkCrc(file, s, sh.payloadCrc(), in.crc());
            } else if (type != SectionType.MEMORY) {
                buffered += s.length();
                if (buffered > MAX_BUFFERED) {
                    throw CheckpointFormatException.bufferedOverCap(file, s, buffered, MAX_BUFFERED);
                }
                payload = new byte[(int) s.length()];
                SectionInput in = new SectionInput(file, channel, s.payloadOffset(), s.length(), READ_BUFFER);
                in.readFully(payload, 0, payload.length);
                checkCrc(file, s, sh.payloadCrc(), in.crc());
            }
            sections.add(new Section(s, sh.payloadCrc(), payload));
            pos = s.payloadOffset() + s.length();
        }
        if (sections.size() != footer.sections()) {
            throw CheckpointFormatException.sectionCount(file, footer.sections(), sections.size());
        }
        return new FileScan(header, List.copyOf(sections));
    }

    static void checkCrc(Path file, SectionInfo s, int stored, int computed) throws CheckpointFormatException {
        if (stored != computed) {
            throw CheckpointFormatException.sectionDamaged(file, s, Le.unsigned(stored), Le.unsigned(computed));
        }
    }
}
