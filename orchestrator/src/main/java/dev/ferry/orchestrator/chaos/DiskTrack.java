package dev.ferry.orchestrator.chaos;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The disk guest's own verdict on its records, for one instance. An error the device reported (a write or flush status:
 * the disk was full, say) is the guest being told; a record that reads back wrong without that (corrupt, torn, from
 * the wrong place) is a broken invariant. A write reported failed leaves the older generation on disk, so once one
 * has been reported, records found still at the older generation are the guest's own expectation, not a loss.
 */
final class DiskTrack {
    private static final Pattern ERROR = Pattern.compile("disk ERROR record=(\\S+) (\\S+) ");
    private static final Pattern PASS = Pattern.compile("disk pass=(\\d+) ");
    private static final Set<String> REPORTED = Set.of("io_status", "write_status", "flush_status");

    private final String instance;
    private final Set<String> seen = new HashSet<>();
    private boolean ioErrorReported;
    private long passes;
    private long reportedErrors;

    DiskTrack(String instance) {
        this.instance = instance;
    }

    long passes() {
        return passes;
    }

    long reportedErrors() {
        return reportedErrors;
    }

    /** New error lines that break the records' invariant (each reported once). */
    synchronized List<String> observe(String copy, List<String> lines) {
        List<String> broken = new java.util.ArrayList<>();
        for (String line : lines) {
            Matcher p = PASS.matcher(line);
            if (p.find()) {
                passes = Math.max(passes, Long.parseLong(p.group(1)));
            }
            Matcher m = ERROR.matcher(line);
            if (!m.find() || !seen.add(copy + " " + line)) {
                continue;
            }
            String what = m.group(2);
            if (REPORTED.contains(what)) {
                ioErrorReported = true;
                reportedErrors++;
            } else if (what.equals("lost_write") && ioErrorReported) {
                reportedErrors++;
            } else {
                broken.add(instance + " on " + copy + ": " + line.strip());
            }
        }
        return broken;
    }
}
