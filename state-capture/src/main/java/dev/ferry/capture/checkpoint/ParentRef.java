package dev.ferry.capture.checkpoint;

import java.nio.file.Path;

/**
 * The checkpoint an incremental one builds on: its id, and its file's name in the same directory (a bare
 * name: never a path, so a chain cannot lead out of its directory).
 */
public record ParentRef(String id, String fileName) {
    public ParentRef {
        CheckpointMeta.requireText("parent id", id);
        if (fileName.isEmpty() || fileName.equals(".") || fileName.equals("..") || fileName.indexOf('/') >= 0
                || fileName.indexOf('\0') >= 0 || fileName.length() > 255) {
            throw new IllegalArgumentException("parent file '" + fileName + "' is not a bare file name");
        }
    }

    /** The parent whose metadata is {@code parent}, stored in {@code parentFile}. */
    public static ParentRef of(CheckpointMeta parent, Path parentFile) {
        return new ParentRef(parent.id(), parentFile.getFileName().toString());
    }
}
