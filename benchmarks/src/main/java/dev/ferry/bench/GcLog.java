package dev.ferry.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A host JVM's garbage-collector pauses, from the log it writes with {@link #jvmOption}: how much of a stretch of
 * wall-clock time its threads (the vCPU's included, at its next VM exit) spent stopped.
 */
final class GcLog {
    private static final Pattern PAUSE = Pattern.compile("^\\[([^\\]]+)\\].*\\bPause\\b.* ([0-9.]+)ms$");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");
    private final Path file;

    GcLog(Path file) {
        this.file = file;
    }

    /** The option that makes a JVM log each pause with the wall-clock time it ended. */
    String jvmOption() {
        return "-Xlog:gc:file=" + file + ":utctime";
    }

    /** Milliseconds of pauses within [fromMillis, toMillis] (epoch ms), counting only the overlapping part. */
    double pausedMillis(long fromMillis, long toMillis) {
        List<String> lines;
        try {
            lines = Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the GC log " + file, e);
        }
        double total = 0;
        for (String line : lines) {
            Matcher m = PAUSE.matcher(line.strip());
            if (!m.matches()) {
                continue;
            }
            long end;
            try {
                end = OffsetDateTime.parse(m.group(1), TIME).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                continue;
            }
            double ms = Double.parseDouble(m.group(2));
            double start = end - ms;
            total += Math.max(0, Math.min(end, toMillis) - Math.max(start, fromMillis));
        }
        return total;
    }
}
