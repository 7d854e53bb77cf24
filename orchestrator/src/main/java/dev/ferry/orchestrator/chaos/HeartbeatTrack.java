package dev.ferry.orchestrator.chaos;

import java.util.ArrayList;
import java.util.List;

/**
 * The heartbeat guest's count as the runner saw it, for one instance: within one copy (host and epoch) every line's
 * sequence number is one more than the last; a new copy either continues past the last number seen (a migration) or
 * starts again from a checkpoint the runner took (a restore). Anything else (a number repeated, or going back where no
 * checkpoint was) is a broken continuity.
 */
final class HeartbeatTrack {
    /** The seq seen just before a checkpoint was asked for, and the one seen right after it was written. */
    record Window(long before, long after) {
        boolean admits(long firstRestored) {
            return firstRestored >= before && firstRestored <= after + 2;
        }
    }

    private final String instance;
    private final List<Window> windows = new ArrayList<>();
    private String copy = "";
    private long last = -1;
    private int copies;

    HeartbeatTrack(String instance) {
        this.instance = instance;
    }

    long last() {
        return last;
    }

    int copies() {
        return copies;
    }

    synchronized void checkpointed(long before, long after) {
        windows.add(new Window(before, after));
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
        long first = seqs.get(0);
        long newest = seqs.get(seqs.size() - 1);
        String key = host + "@" + epoch;
        String problem = null;
        if (key.equals(copy)) {
            if (newest < last) {
                problem = instance + " on " + key + ": heartbeat went back from " + last + " to " + newest;
            }
        } else if (last >= 0 && first <= last && windows.stream().noneMatch(w -> w.admits(first))) {
            problem = instance + ": the copy on " + key + " starts at heartbeat " + first + " after " + last
                    + " was seen on " + copy + ", and no checkpoint was taken there (windows " + windows + ")";
        }
        if (!key.equals(copy)) {
            copies++;
            copy = key;
        }
        last = newest;
        return problem;
    }
}
