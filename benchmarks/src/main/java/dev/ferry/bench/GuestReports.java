package dev.ferry.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * What a migrated guest printed on the source ({@code src}) and then on the destination ({@code dst}): the
 * {@code heartbeat}'s beats (seq, guest TSC) and the {@code dirtier}'s reports (total pages). Lines may arrive more
 * than once (a console is polled) and some may be missing (the line being printed at the switchover is cut in two);
 * beats are keyed by seq and reports by total, so neither matters.
 *
 * <p>The guest gap is computed from beats only: for two beats a, b it is the guest time between them beyond the
 * cadence, {@code (tsc_b - tsc_a) / cycles_per_ms - (seq_b - seq_a) x interval}. The heartbeat keeps its cadence
 * and restarts it after a stall longer than one interval, so over any span this is the time the guest lost in it,
 * whether or not the beats in between were seen.
 */
final class GuestReports {
    static final String SOURCE = "src";
    static final String DESTINATION = "dst";

    record Beat(String role, long seq, long tsc) {}

    private final NavigableMap<Long, Beat> beats = new TreeMap<>();
    private final NavigableMap<Long, String> reports = new TreeMap<>();
    private final Map<String, Integer> starts = new HashMap<>();

    synchronized void accept(String role, String line) {
        if (GuestLine.is(line, "heartbeat", "seq") && GuestLine.field(line, "tsc").isPresent()) {
            beats.putIfAbsent(GuestLine.require(line, "seq"), new Beat(role, GuestLine.require(line, "seq"),
                    GuestLine.require(line, "tsc")));
        } else if (GuestLine.is(line, "dirtier", "total_pages")) {
            reports.putIfAbsent(GuestLine.require(line, "total_pages"), role);
        } else if (GuestLine.is(line, "dirtier", "workset_mib")) {
            starts.merge(role, 1, Integer::sum);
        } else {
            return;
        }
        notifyAll();
    }

    /** Pages the dirtier reported written by its last report from {@code role}; 0 before any. */
    synchronized long lastTotal(String role) {
        return reports.descendingMap().entrySet().stream().filter(e -> e.getValue().equals(role))
                .mapToLong(Map.Entry::getKey).findFirst().orElse(0);
    }

    synchronized long reportCount(String role) {
        return reports.values().stream().filter(role::equals).count();
    }

    synchronized long beatCount(String role) {
        return beats.values().stream().filter(b -> b.role().equals(role)).count();
    }

    /** The highest seq seen from {@code role}, or -1. */
    synchronized long lastSeq(String role) {
        return beats.descendingMap().values().stream().filter(b -> b.role().equals(role)).mapToLong(Beat::seq)
                .findFirst().orElse(-1);
    }

    /** Waits until {@code condition} holds; fails after {@code limit}, saying it waited for {@code what}. */
    /** Waits up to {@code limit} for {@code condition}; returns whether it holds. */
    synchronized boolean awaitUpTo(Predicate<GuestReports> condition, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            while (!condition.test(this)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                wait(Math.max(1, left / 1_000_000));
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    synchronized void await(Predicate<GuestReports> condition, Duration limit, String what) {
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            while (!condition.test(this)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("waited " + limit + " for " + what + "; the guest printed "
                            + beatCount(SOURCE) + "+" + beatCount(DESTINATION) + " beats, " + reportCount(SOURCE)
                            + "+" + reportCount(DESTINATION) + " dirtier reports (source+destination), last total "
                            + Math.max(lastTotal(SOURCE), lastTotal(DESTINATION)));
                }
                wait(Math.max(1, left / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + what, e);
        }
    }

    /**
     * Whether the guest went on on the destination where it left off: the heartbeat's first seq there follows the
     * source's last, or the dirtier's count of pages goes on growing from the source's last total, and it did not
     * start again (no start line on the destination).
     */
    synchronized boolean continued() {
        if (starts.getOrDefault(DESTINATION, 0) > 0) {
            return false;
        }
        if (!beats.isEmpty()) {
            long src = lastSeq(SOURCE);
            Long firstDst = beats.values().stream().filter(b -> b.role().equals(DESTINATION)).map(Beat::seq)
                    .findFirst().orElse(null);
            return src >= 0 && firstDst != null && firstDst > src && beatCount(DESTINATION) >= 2;
        }
        long src = lastTotal(SOURCE);
        long firstDst = reports.entrySet().stream().filter(e -> e.getValue().equals(DESTINATION))
                .mapToLong(Map.Entry::getKey).findFirst().orElse(-1);
        return src > 0 && firstDst > src && reportCount(DESTINATION) >= 2;
    }

    /** TSC cycles per ms: the median spacing of consecutive source beats over the interval. */
    synchronized double cyclesPerMs(int intervalMs) {
        List<Double> spacing = new ArrayList<>();
        Beat prev = null;
        for (Beat b : beats.values()) {
            if (prev != null && b.role().equals(SOURCE) && prev.role().equals(SOURCE) && b.seq() == prev.seq() + 1) {
                spacing.add((double) (b.tsc() - prev.tsc()));
            }
            prev = b;
        }
        if (spacing.size() < 5) {
            throw new IllegalStateException("only " + spacing.size() + " pairs of consecutive beats seen on the source; "
                    + "cannot tell the guest's TSC rate");
        }
        return Stats.median(spacing) / intervalMs;
    }

    private static double excessMs(Beat a, Beat b, double cyclesPerMs, int intervalMs) {
        return (b.tsc() - a.tsc()) / cyclesPerMs - (b.seq() - a.seq()) * (double) intervalMs;
    }

    /**
     * The guest's gap across the switchover beyond the cadence: the largest of the span from the last beat seen on the
     * source to the first on the destination and of the pairs of beats within {@code around} beats of it on either
     * side; never below 0. Null if either side printed no beat.
     */
    synchronized Double gapAcrossSwitchMs(int intervalMs, int around) {
        long lastSrc = lastSeq(SOURCE);
        Beat firstDst = beats.values().stream().filter(b -> b.role().equals(DESTINATION)).findFirst().orElse(null);
        if (lastSrc < 0 || firstDst == null) {
            return null;
        }
        double cpms = cyclesPerMs(intervalMs);
        double gap = Math.max(0, excessMs(beats.get(lastSrc), firstDst, cpms, intervalMs));
        List<Beat> src = beats.headMap(lastSrc, true).descendingMap().values().stream().limit(around + 1L).toList();
        List<Beat> dst = beats.tailMap(firstDst.seq(), true).values().stream().limit(around + 1L).toList();
        for (List<Beat> side : List.of(src, dst)) {
            for (int i = 1; i < side.size(); i++) {
                Beat a = side.get(i - 1);
                Beat b = side.get(i);
                gap = Math.max(gap, a.seq() < b.seq() ? excessMs(a, b, cpms, intervalMs) : excessMs(b, a, cpms, intervalMs));
            }
        }
        return gap;
    }

    /** The largest gap beyond the cadence between consecutive source beats with seq in [from, to]; null if none. */
    synchronized Double gapElsewhereMs(long from, long to, int intervalMs) {
        double cpms = cyclesPerMs(intervalMs);
        Double gap = null;
        Beat prev = null;
        for (Beat b : beats.subMap(from, true, to, true).values()) {
            if (prev != null && prev.role().equals(SOURCE) && b.role().equals(SOURCE)) {
                double e = excessMs(prev, b, cpms, intervalMs);
                gap = gap == null ? Math.max(0, e) : Math.max(gap, e);
            }
            prev = b;
        }
        return gap;
    }
}
