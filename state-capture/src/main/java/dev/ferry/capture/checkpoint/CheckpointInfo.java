package dev.ferry.capture.checkpoint;

import java.nio.file.Path;
import java.util.List;

/** What a verified checkpoint file holds: its version, metadata, sections (types and sizes) and memory. */
public record CheckpointInfo(Path file, long fileBytes, FormatVersion version, CheckpointMeta meta,
                             List<SectionInfo> sections, MemoryStats memory) {
    public CheckpointInfo {
        sections = List.copyOf(sections);
    }
}
