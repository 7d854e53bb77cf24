package dev.ferry.capture.checkpoint;

import dev.ferry.vmm.memory.PageBitmap;

/** Which guest pages a checkpoint holds. */
public sealed interface PageSelection {
    /** A full checkpoint: every page ever written that is not all zero (RAM starts zeroed on restore). */
    record Populated() implements PageSelection {}

    /** An incremental checkpoint: exactly these pages (dirtied since the parent), zero ones included. */
    record Dirty(PageBitmap pages) implements PageSelection {}

    static PageSelection populated() {
        return new Populated();
    }

    static PageSelection dirty(PageBitmap pages) {
        return new Dirty(pages);
    }
}
