package dev.ferry.orchestrator.chaos;

import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The table printed while a run goes on: every instance where the registry and the hosts say it is, and the counts. */
final class LiveTable {
    private LiveTable() {}

    static void print(PrintWriter out, long elapsedMillis, Ledger ledger, Instances instances, ClusterStatus status,
                      Map<String, Probe.Hosted> lists, Set<String> away) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "---- %5.0f s | ops %d ok, %d failed | faults %d %s | checks %d ok, %d failed"
                        + " | nodes away: %s%n", elapsedMillis / 1000.0, ledger.opsOk(), ledger.opsFailed(),
                ledger.injectedTotal(), ledger.injectedByKind().toString().toLowerCase(Locale.ROOT), ledger.checksPassed(),
                ledger.checksFailed(), away.isEmpty() ? "none" : String.join(",", away)));
        b.append(String.format("%-5s %-9s %-8s %-7s %-22s %s%n", "id", "registry", "host", "epoch", "hosts running it",
                "guest"));
        for (String id : instances.ids()) {
            RegisteredInstance r = status == null ? null : status.getInstancesList().stream()
                    .filter(i -> i.getInstanceId().equals(id)).findFirst().orElse(null);
            List<String> copies = new ArrayList<>();
            lists.forEach((host, h) -> h.list().getInstancesList().stream()
                    .filter(i -> i.getInstanceId().equals(id) && i.getState().equals("RUNNING"))
                    .forEach(i -> copies.add(host + "@" + i.getEpoch())));
            copies.sort(String::compareTo);
            Instances.Tracked t = instances.get(id);
            String guest = t == null ? "?" : t.guest.equals("disk") ? "disk pass " + t.disk.passes()
                    + (t.disk.reportedErrors() > 0 ? ", " + t.disk.reportedErrors() + " I/O errors reported" : "")
                    : t.guest.equals(Schedule.GUEST_HEARTBEAT) ? "heartbeat " + t.beats.last() : t.guest;
            b.append(String.format("%-5s %-9s %-8s %-7s %-22s %s%n", id, r == null ? "?" : r.getState(),
                    r == null ? "?" : r.getHost(), r == null ? "?" : Long.toString(r.getEpoch()),
                    copies.isEmpty() ? "-" : String.join(" ", copies), guest));
        }
        out.print(b);
        out.flush();
    }
}
