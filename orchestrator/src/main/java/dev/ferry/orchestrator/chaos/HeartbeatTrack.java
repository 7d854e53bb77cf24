package dev.ferry.orchestrator.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The heartbeat guest's count as the runner saw it, for one instance: within one copy (host and epoch) every line's
 * sequence number is one more than the last; a new copy either continues past the last number seen (a migration) or
 * starts again from a checkpoint (a restore). Anything else (a number repeated, or going back where no checkpoint was)
 * is a broken continuity.
 *
 * <p>A checkpoint's reply names the last line the guest had completed when it was paused, so a copy restored from it
 * must start exactly one beat later. Copies the runner never saw (an epoch skipped between two looks: restored, then
 * migrated before the next look) may have counted on from there, so a later copy of that lineage only has to start
 * past the checkpoint. When the runner did not get the checkpoint's answer, or the restore's, it falls back to the
 * window of beats it saw around the checkpoint.
 */
final class HeartbeatTrack {
    /** The seq seen just before a checkpoint was asked for, and the one seen right after it was written. */
    record Window(long before, long after) {
        boolean admits(long firstRestored) {
            return firstRestored >= before && firstRestored <= after + 2;
        }
    }

    /** A restore the runner asked for and was answered: the copy at {@code epoch} started from {@code checkpoint}. */
    record Restore(long epoch, String checkpoint) {}

    private final String instance;
    private final List<Window> windows = new ArrayList<>();
    private final Map<String, Long> capturedAt = new HashMap<>();
    private final List<Restore> restores = new ArrayList<>();
    private String copy = "";
    private long last = -1;
    private long lastEpoch = -1;
    private int copies;

    HeartbeatTrack(String instance) {
        this.instance = instance;
    }

    synchronized long last() {
        return last;
    }

    synchronized int copies() {
        return copies;
    }

    /** A checkpoint whose answer did not say where the guest was: only the beats seen around it are known. */
    synchronized void checkpointed(long before, long after) {
        windows.add(new Window(before, after));
    }

    /**
     * A checkpoint written to {@code path}: {@code tail} is the last console line at capture (its seq, when it is a
     * heartbeat line, is exactly where a restore resumes); {@code before}/{@code after} the beats seen around it.
     */
    synchronized void checkpointed(String path, String tail, long before, long after) {
        List<Long> at = seqs(List.of(tail));
        if (at.isEmpty()) {
            windows.add(new Window(before, after));
        } else {
            capturedAt.put(path, at.get(0));
        }
    }

    synchronized void restored(long epoch, String checkpoint) {
        restores.add(new Restore(epoch, checkpoint));
    }

    /** Sequence numbers in {@code lines} of the heartbeat console. */
    static List<Long> seqs(List<String> lines) {
        List<Long> out = new ArrayList<>();
        for (String line : lines) {
            int at = line.indexOf("heartbeat seq=");
            if (at >= 0) {
                String rest = line.substring(at + "heartbeat seq=".length());
                int end = rest.indexOf(' ');
                try {
                    out.add(Long.parseLong(end < 0 ? rest : rest.substring(0, end)));
                } catch (NumberFormatException torn) {
                    // a line cut in two by the console buffer: not a beat
                }
            }
        }
        return out;
    }

    /**
     * The console of the copy at {@code host} and {@code epoch}, as read now; null when it continues what came before,
     * otherwise what is wrong.
     */
    synchronized String observe(String host, long epoch, List<Long> seqs) {
        if (seqs.isEmpty()) {
            return null;
        }
        for (int i = 1; i < seqs.size(); i++) {
            if (seqs.get(i) != seqs.get(i - 1) + 1) {
                return instance + " on " + host + " at epoch " + epoch + ": heartbeat seq " + seqs.get(i - 1)
                        + " is followed by " + seqs.get(i);
            }
        }
        if (epoch < lastEpoch) {
            // an older copy read after a newer one: whether both ran at once is the single-copy check's to judge
            return null;
        }
        long first = seqs.get(0);
        long newest = seqs.get(seqs.size() - 1);
        String key = host + "@" + epoch;
        String problem = null;
        if (key.equals(copy)) {
            if (newest < last) {
                problem = instance + " on " + key + ": heartbeat went back from " + last + " to " + newest;
            }
        } else if (last >= 0 && first <= last) {
            problem = wentBack(key, epoch, first);
        }
        if (!key.equals(copy)) {
            copies++;
            copy = key;
        }
        last = newest;
        lastEpoch = epoch;
        return problem;
    }

    /** A new copy that starts at or before the last beat seen: null when a checkpoint explains it. */
    private String wentBack(String key, long epoch, long first) {
        boolean unseenBetween = lastEpoch >= 0 && epoch > lastEpoch + 1;
        for (Restore r : restores) {
            Long at = capturedAt.get(r.checkpoint());
            if (at == null || r.epoch() <= lastEpoch || r.epoch() > epoch) {
                continue;
            }
            if (r.epoch() == epoch) {
                return first == at + 1 ? null : instance + ": the copy on " + key + " was restored from "
                        + r.checkpoint() + ", taken at heartbeat " + at + ", but starts at " + first;
            }
            if (first > at) {
                return null;
            }
        }
        // a restore whose answer the runner did not get: any checkpoint taken may be where it came from
        for (long at : capturedAt.values()) {
            if (first == at + 1 || unseenBetween && first > at) {
                return null;
            }
        }
        for (Window w : windows) {
            if (w.admits(first) || unseenBetween && first >= w.before()) {
                return null;
            }
        }
        return instance + ": the copy on " + key + " starts at heartbeat " + first + " after " + last
                + " was seen on " + copy + ", and no checkpoint was taken there (windows " + windows
                + ", checkpoints at " + capturedAt.values() + ")";
    }
}
