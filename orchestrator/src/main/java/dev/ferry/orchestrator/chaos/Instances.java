package dev.ferry.orchestrator.chaos;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The instances a chaos run made, with what the runner knows of each: its guest, and its guest's continuity so far. */
final class Instances {
    /** One instance: its guest, whether it was deployed from an image, and its trackers. */
    static final class Tracked {
        final String id;
        final String guest;
        final boolean deployed;
        final HeartbeatTrack beats;
        final DiskTrack disk;
        volatile long checkpointsOk;

        Tracked(String id, String guest, boolean deployed) {
            this.id = id;
            this.guest = guest;
            this.deployed = deployed;
            this.beats = new HeartbeatTrack(id);
            this.disk = new DiskTrack(id);
        }
    }

    private final Map<String, Tracked> byId = new ConcurrentHashMap<>();

    Tracked add(String id, String guest, boolean deployed) {
        return byId.computeIfAbsent(id, k -> new Tracked(id, guest, deployed));
    }

    Tracked get(String id) {
        return byId.get(id);
    }

    List<String> ids() {
        return byId.keySet().stream().sorted(Instances::byName).toList();
    }

    /** i2 before i10. */
    static int byName(String a, String b) {
        String pa = a.replaceAll("\\d+$", "");
        String pb = b.replaceAll("\\d+$", "");
        if (!pa.equals(pb) || !a.matches(".*\\d$") || !b.matches(".*\\d$")) {
            return a.compareTo(b);
        }
        return Long.compare(Long.parseLong(a.substring(pa.length())), Long.parseLong(b.substring(pb.length())));
    }
}
