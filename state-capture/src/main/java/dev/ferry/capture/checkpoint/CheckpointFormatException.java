package dev.ferry.capture.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * A checkpoint file that this build refuses: foreign, truncated, damaged, of a version it does not read, or
 * breaking a rule of the format. Every message is one line naming the file, where in it (header, section with
 * type and index, block, footer) and what was expected; all of them are written here.
 */
public final class CheckpointFormatException extends IOException {
    private CheckpointFormatException(Path file, String where, String what) {
        super("checkpoint file " + name(file) + (where.isEmpty() ? " " : ", " + where + ": ") + what);
    }

    private static String name(Path file) {
        Path n = file.getFileName();
        return n == null ? file.toString() : n.toString();
    }

    private static String hex(long crc) {
        return String.format("0x%08x", crc);
    }

    static CheckpointFormatException notACheckpoint(Path file, byte[] start, byte[] magic) {
        HexFormat h = HexFormat.ofDelimiter(" ");
        return new CheckpointFormatException(file, "",
                "is not a Ferry checkpoint: it starts with [" + h.formatHex(start) + "], a checkpoint with ["
                        + h.formatHex(magic) + "]");
    }

    static CheckpointFormatException tooShort(Path file, long size, long minimum) {
        return new CheckpointFormatException(file, "",
                "is " + size + " bytes, shorter than the smallest checkpoint (" + minimum
                        + " bytes): it is truncated or was not completely written");
    }

    static CheckpointFormatException headerDamaged(Path file, long stored, long computed) {
        return new CheckpointFormatException(file, "header",
                "CRC32C is " + hex(computed) + ", the header says " + hex(stored) + ": the file is damaged");
    }

    static CheckpointFormatException unreadableVersion(Path file, FormatVersion found) {
        FormatVersion cur = FormatVersion.CURRENT;
        String reads = found.major() != cur.major()
                ? cur.major() + ".x"
                : cur.major() + ".x up to " + cur;
        return new CheckpointFormatException(file, "", "is version " + found + ", this build reads " + reads);
    }

    static CheckpointFormatException unknownHeaderFlags(Path file, int flags) {
        return new CheckpointFormatException(file, "header",
                String.format("flags are 0x%08x, version %s defines none", flags, FormatVersion.CURRENT));
    }

    static CheckpointFormatException footerMissing(Path file, long size) {
        return new CheckpointFormatException(file, "footer",
                "not found in the last " + FileFooter.BYTES + " bytes of " + size
                        + ": the file is truncated or was not completely written");
    }

    static CheckpointFormatException footerDamaged(Path file, long stored, long computed) {
        return new CheckpointFormatException(file, "footer",
                "CRC32C is " + hex(computed) + ", the footer says " + hex(stored) + ": the file is damaged");
    }

    static CheckpointFormatException lengthMismatch(Path file, long declared, long actual) {
        return new CheckpointFormatException(file, "footer",
                "says the file is " + declared + " bytes, it is " + actual + ": it was truncated or extended");
    }

    static CheckpointFormatException sectionHeaderTruncated(Path file, int index, long offset, long available) {
        return new CheckpointFormatException(file, "section #" + index + " at byte " + offset,
                "header needs " + SectionHeader.BYTES + " bytes, only " + available + " remain before the footer");
    }

    static CheckpointFormatException sectionHeaderDamaged(Path file, int index, long offset, long stored,
                                                          long computed) {
        return new CheckpointFormatException(file, "section #" + index + " at byte " + offset,
                "header CRC32C is " + hex(computed) + ", the header says " + hex(stored) + ": the file is damaged");
    }

    static CheckpointFormatException sectionIndex(Path file, int expected, long offset, int found) {
        return new CheckpointFormatException(file, "section at byte " + offset,
                "is numbered #" + found + ", expected #" + expected + " (sections are numbered in file order)");
    }

    static CheckpointFormatException tooManySections(Path file, long offset, int limit) {
        return new CheckpointFormatException(file, "section #" + limit + " at byte " + offset,
                "is one more than the " + limit + " sections a checkpoint may hold");
    }

    static CheckpointFormatException sectionPastEnd(Path file, SectionInfo s, long available) {
        return new CheckpointFormatException(file, s.describe(),
                "declares " + Long.toUnsignedString(s.length()) + " bytes, only " + available + " remain before the footer");
    }

    static CheckpointFormatException sectionOverCap(Path file, SectionInfo s, long cap) {
        return new CheckpointFormatException(file, s.describe(),
                "declares " + Long.toUnsignedString(s.length()) + " bytes, more than the " + cap + " this section type may hold");
    }

    static CheckpointFormatException bufferedOverCap(Path file, SectionInfo s, long total, long cap) {
        return new CheckpointFormatException(file, s.describe(),
                "brings the sections held in memory to " + total + " bytes, more than the " + cap + " allowed");
    }

    static CheckpointFormatException unknownFlags(Path file, SectionInfo s) {
        return new CheckpointFormatException(file, s.describe(),
                String.format("flags are 0x%04x; version %s knows only 0x%04x (may skip)", s.flags(),
                        FormatVersion.CURRENT, SectionInfo.MAY_SKIP));
    }

    static CheckpointFormatException unknownMandatory(Path file, SectionInfo s) {
        return new CheckpointFormatException(file, s.describe(),
                "is of a type this build does not know and is not marked skippable");
    }

    static CheckpointFormatException sectionDamaged(Path file, SectionInfo s, long stored, long computed) {
        return new CheckpointFormatException(file, s.describe(),
                "payload CRC32C is " + hex(computed) + ", the header says " + hex(stored) + ": the file is damaged");
    }

    static CheckpointFormatException sectionCount(Path file, int declared, int found) {
        return new CheckpointFormatException(file, "footer",
                "counts " + declared + " sections, the file holds " + found);
    }

    static CheckpointFormatException misplaced(Path file, SectionInfo s, String rule) {
        return new CheckpointFormatException(file, s.describe(), rule);
    }

    static CheckpointFormatException duplicate(Path file, SectionInfo s, SectionInfo first) {
        return new CheckpointFormatException(file, s.describe(),
                "repeats " + first.describe() + "; a checkpoint holds one");
    }

    static CheckpointFormatException missing(Path file, SectionType type) {
        return new CheckpointFormatException(file, "", "has no " + type + " section; every checkpoint holds one");
    }

    static CheckpointFormatException badPayload(Path file, SectionInfo s, String what) {
        return new CheckpointFormatException(file, s.describe(), what);
    }

    static CheckpointFormatException badBlock(Path file, SectionInfo s, long block, long offset, String what) {
        return new CheckpointFormatException(file, s.describe() + ", block " + block + " at byte " + offset, what);
    }

    static CheckpointFormatException blockDamaged(Path file, SectionInfo s, long block, long offset, long stored,
                                                  long computed) {
        return badBlock(file, s, block, offset,
                "CRC32C is " + hex(computed) + ", the block says " + hex(stored) + ": the file is damaged");
    }

    static CheckpointFormatException shrank(Path file, long offset) {
        return new CheckpointFormatException(file, "",
                "ended at byte " + offset + " while being read: it was truncated after it was opened");
    }

    static CheckpointFormatException missingParent(Path file, ParentRef parent, Path dir) {
        return new CheckpointFormatException(file, "META",
                "names parent " + parent.fileName() + " (id " + parent.id() + "), which does not exist in " + dir);
    }

    static CheckpointFormatException parentMismatch(Path file, ParentRef parent, String foundId) {
        return new CheckpointFormatException(file, "META",
                "names parent " + parent.fileName() + " with id " + parent.id() + ", but that file's id is "
                        + foundId);
    }

    static CheckpointFormatException parentSizeMismatch(Path file, long size, String parentFile, long parentSize) {
        return new CheckpointFormatException(file, "META",
                "is of " + size + " bytes of memory, its parent " + parentFile + " of " + parentSize);
    }

    static CheckpointFormatException chainTooLong(Path file, int limit) {
        return new CheckpointFormatException(file, "META",
                "starts a chain of more than " + limit + " checkpoints without reaching a full one");
    }

    static CheckpointFormatException chainLoop(Path file, String id) {
        return new CheckpointFormatException(file, "META",
                "leads back to checkpoint " + id + " through its parents: the chain loops");
    }
}
