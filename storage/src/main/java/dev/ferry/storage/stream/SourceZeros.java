package dev.ferry.storage.stream;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which ranges of a source read as zeros, learned from its {@link RemoteImage#extents} {@link #SPAN} bytes at a time
 * ahead of the copier, so that a block lying wholly in such a range is made local without being fetched. It only
 * ever says "zero" of what the source said is zero: when the source cannot tell (or the question fails) a range counts
 * as data and is fetched as before.
 */
final class SourceZeros {
    private static final Logger log = LoggerFactory.getLogger(SourceZeros.class);
    /** How much of the image one question covers. */
    static final long SPAN = 64L << 20;

    private final RemoteImage source;
    private final long capacity;
    /** The range known: zero where {@link #zeros} says so, data elsewhere. */
    private long from;
    private long to;
    /** Zero runs within the known range, start to end, merged where they touch. */
    private final TreeMap<Long, Long> zeros = new TreeMap<>();
    private long questions;

    SourceZeros(RemoteImage source, long capacity) {
        this.source = source;
        this.capacity = capacity;
    }

    /** Whether {@code [start, start + length)} reads as zeros at the source. */
    synchronized boolean allZero(long start, long length) {
        long end = start + length;
        if (start < from || start > to) {
            zeros.clear();   // the copier wrapped around, or jumped: start afresh there
            from = start;
            to = start;
        }
        if (from < start - SPAN) {   // forget what lies a span behind
            zeros.headMap(start - SPAN).clear();
            from = start - SPAN;
        }
        while (to < end) {
            long ask = Math.min(SPAN, capacity - to);
            List<RemoteImage.Extent> extents;
            try {
                questions++;
                extents = source.extents(to, ask);
            } catch (IOException e) {
                log.debug("block status of {} at {} from {} failed ({}): fetching that span", ask, to,
                        source.describe(), e.getMessage());
                to += ask;   // unknown: data, fetched as before; one question per span at most
                continue;
            }
            long at = to;
            for (RemoteImage.Extent x : extents) {
                if (x.offset() != at || x.length() <= 0) {
                    break;   // not the consecutive runs promised: trust nothing past here
                }
                if (x.zero()) {
                    Map.Entry<Long, Long> last = zeros.lastEntry();
                    if (last != null && last.getValue() == at) {
                        zeros.put(last.getKey(), at + x.length());
                    } else {
                        zeros.put(at, at + x.length());
                    }
                }
                at += x.length();
            }
            to = at > to ? Math.min(at, capacity) : to + ask;
        }
        Map.Entry<Long, Long> run = zeros.floorEntry(start);
        return run != null && run.getValue() >= end;
    }

    /** Questions asked of the source so far. */
    synchronized long questions() {
        return questions;
    }
}
