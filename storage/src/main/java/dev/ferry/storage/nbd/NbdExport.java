package dev.ferry.storage.nbd;

import java.nio.file.Path;

/** One image a server offers: its export name (the file's name), its size, and the file itself. */
public record NbdExport(String name, long size, Path file) {}
