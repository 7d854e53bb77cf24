package dev.ferry.capture.checkpoint;

/**
 * One section as its header describes it: its position in the file ({@code index} from 0), type code,
 * flags, the offset of its header, and the length of its payload (which follows the header).
 */
public record SectionInfo(int index, int type, int flags, long offset, long length) {
    /** Flag bit: a reader that does not know this type may skip the section. */
    public static final int MAY_SKIP = 1;

    public boolean maySkip() {
        return (flags & MAY_SKIP) != 0;
    }

    /** The known type, or null. */
    public SectionType knownType() {
        return SectionType.of(type);
    }

    public long payloadOffset() {
        return offset + SectionHeader.BYTES;
    }

    /** For messages: {@code section #2 (MEMORY at byte 1032)}. */
    public String describe() {
        return "section #" + index + " (" + SectionType.describe(type) + " at byte " + offset + ")";
    }
}
