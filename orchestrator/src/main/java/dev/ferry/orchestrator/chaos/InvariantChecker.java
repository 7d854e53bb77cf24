package dev.ferry.orchestrator.chaos;

import dev.ferry.orchestrator.OrchestratorClient;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * One observation round: asks the registry and every host agent directly, and checks, for every instance:
 * <ul>
 *   <li>single-copy: at most one host runs it. Two copies at one epoch is a violation at once; at two epochs, the host
 *       of the older one is asked again after the newer one was seen, and still running it there is a violation.</li>
 *   <li>registry-agrees: where the registry says it runs (host and epoch), that host runs it; a lost one runs nowhere.
 *       The registry learns of changes a few seconds after the hosts, so only a disagreement that lasts
 *       {@link #DISAGREE_MS} counts.</li>
 *   <li>lost-has-checkpoint: a lost instance that was ever checkpointed names a checkpoint file that exists.</li>
 *   <li>vm-behind-journal: a host whose journal says it runs the instance has its VM (asked twice).</li>
 *   <li>heartbeat-continuity and disk-records: see {@link HeartbeatTrack} and {@link DiskTrack}.</li>
 * </ul>
 */
final class InvariantChecker {
    static final long DISAGREE_MS = 45_000;

    private final OrchestratorClient orch;
    private final Probe probe;
    private final Instances instances;
    private final Ledger ledger;
    private final Map<String, Long> disagreeSince = new HashMap<>();
    private final Map<String, String> disagreeWhat = new HashMap<>();
    private volatile ClusterStatus lastStatus;
    private volatile Map<String, Probe.Hosted> lastLists = Map.of();

    InvariantChecker(OrchestratorClient orch, Probe probe, Instances instances, Ledger ledger) {
        this.orch = orch;
        this.probe = probe;
        this.instances = instances;
        this.ledger = ledger;
    }

    ClusterStatus lastStatus() {
        return lastStatus;
    }

    Map<String, Probe.Hosted> lastLists() {
        return lastLists;
    }

    /** One round; {@code strict} (at the end) counts any disagreement with the registry at once. */
    synchronized void round(boolean strict) {
        ClusterStatus status = null;
        try {
            status = orch.statusAsync().toCompletableFuture().get(10, TimeUnit.SECONDS);
            lastStatus = status;
        } catch (Exception orchestratorAway) {
            // no registry this round: the checks against it wait for the next one
        }
        Map<String, Probe.Hosted> lists;
        try {
            lists = probe.lists();
        } catch (Exception e) {
            return;
        }
        lastLists = lists;
        ledger.round();
        Map<String, RegisteredInstance> registry = new HashMap<>();
        if (status != null) {
            status.getInstancesList().forEach(r -> registry.put(r.getInstanceId(), r));
        }
        TreeSet<String> ids = new TreeSet<>(instances.ids());
        ids.addAll(registry.keySet());
        lists.values().forEach(h -> h.list().getInstancesList().forEach(i -> ids.add(i.getInstanceId())));
        for (String id : ids) {
            check(id, registry.get(id), lists, status != null, strict);
        }
    }

    private record Copy(String host, long epoch, String guest) {}

    private static List<Copy> running(String id, Map<String, Probe.Hosted> lists) {
        List<Copy> out = new ArrayList<>();
        lists.forEach((host, h) -> h.list().getInstancesList().stream()
                .filter(i -> i.getInstanceId().equals(id) && i.getState().equals("RUNNING"))
                .forEach(i -> out.add(new Copy(host, i.getEpoch(), i.getGuest()))));
        out.sort((a, b) -> Long.compare(a.epoch(), b.epoch()));
        return out;
    }

    private void check(String id, RegisteredInstance reg, Map<String, Probe.Hosted> lists, boolean registryRead,
                       boolean strict) {
        List<Copy> copies = running(id, lists);
        singleCopy(id, copies, lists);
        for (Copy c : copies) {
            guestState(id, c, lists);
        }
        if (registryRead) {
            registryAgrees(id, reg, copies, lists, strict);
        }
    }

    private void singleCopy(String id, List<Copy> copies, Map<String, Probe.Hosted> lists) {
        if (copies.size() <= 1) {
            ledger.passed("single-copy");
            return;
        }
        Copy newest = copies.get(copies.size() - 1);
        List<String> still = new ArrayList<>();
        for (Copy older : copies.subList(0, copies.size() - 1)) {
            if (older.epoch() == newest.epoch()) {
                still.add(older.host() + "@" + older.epoch());
                continue;
            }
            // Asked after the newer copy was seen running: still running means both ran at once.
            try {
                var again = probe.lists().get(older.host());
                if (again != null && again.list().getInstancesList().stream().anyMatch(i -> i.getInstanceId().equals(id)
                        && i.getState().equals("RUNNING") && i.getEpoch() == older.epoch())) {
                    still.add(older.host() + "@" + older.epoch());
                }
            } catch (Exception e) {
                // cannot ask again: judge on the next round
            }
        }
        if (still.isEmpty()) {
            ledger.passed("single-copy");
        } else {
            ledger.failed("single-copy", id + " runs on " + still + " and on " + newest.host() + "@" + newest.epoch()
                    + " at the same time");
        }
    }

    private void guestState(String id, Copy c, Map<String, Probe.Hosted> lists) {
        Probe.Hosted h = lists.get(c.host());
        Optional<Probe.Console> console = probe.console(h.agent(), id);
        if (console.isEmpty()) {
            // The VM may have ended between the list and the console request: ask both again.
            try {
                Thread.sleep(1000);
                var again = probe.lists().get(c.host());
                boolean stillRunning = again != null && again.list().getInstancesList().stream()
                        .anyMatch(i -> i.getInstanceId().equals(id) && i.getState().equals("RUNNING")
                                && i.getEpoch() == c.epoch());
                Optional<Boolean> found = probe.vmFound(h.agent(), id);
                if (stillRunning && found.isPresent() && !found.get()) {
                    ledger.failed("vm-behind-journal", c.host() + "'s journal says it runs " + id + " at epoch "
                            + c.epoch() + ", but it has no VM for it");
                    return;
                }
            } catch (Exception e) {
                return;
            }
            ledger.passed("vm-behind-journal");
            return;
        }
        ledger.passed("vm-behind-journal");
        Instances.Tracked t = instances.get(id);
        String guest = t != null ? t.guest : c.guest();
        if (guest.equals(Schedule.GUEST_HEARTBEAT)) {
            Instances.Tracked track = t != null ? t : instances.add(id, guest, false);
            // the epoch the host answered with: the copy may have changed since the list was read
            String problem = track.beats.observe(c.host(), console.get().epoch(),
                    HeartbeatTrack.seqs(console.get().lines()));
            if (problem == null) {
                ledger.passed("heartbeat-continuity");
            } else {
                ledger.failed("heartbeat-continuity", problem);
            }
        } else if (guest.equals("disk")) {
            Instances.Tracked track = t != null ? t : instances.add(id, guest, true);
            List<String> broken = track.disk.observe(c.host() + "@" + console.get().epoch(), console.get().lines());
            if (broken.isEmpty()) {
                ledger.passed("disk-records");
            }
            broken.forEach(b -> ledger.failed("disk-records", b));
        }
    }

    private void registryAgrees(String id, RegisteredInstance reg, List<Copy> copies, Map<String, Probe.Hosted> lists,
                                boolean strict) {
        String problem = null;
        String state = reg == null ? "UNKNOWN" : reg.getState();
        switch (state) {
            case "RUNNING" -> {
                Probe.Hosted h = lists.get(reg.getHost());
                if (h != null) {
                    Optional<InstanceInfo> there = h.list().getInstancesList().stream()
                            .filter(i -> i.getInstanceId().equals(id)).findFirst();
                    if (there.isEmpty() || !there.get().getState().equals("RUNNING")
                            || there.get().getEpoch() != reg.getEpoch()) {
                        problem = "the registry has " + id + " RUNNING on " + reg.getHost() + "@" + reg.getEpoch()
                                + ", the host reports " + there.map(i -> i.getState() + "@" + i.getEpoch()).orElse("nothing");
                    }
                }
                for (Copy c : copies) {
                    if (!(c.host().equals(reg.getHost()) && c.epoch() == reg.getEpoch())) {
                        problem = "the registry has " + id + " on " + reg.getHost() + "@" + reg.getEpoch() + ", but "
                                + c.host() + " runs it at epoch " + c.epoch();
                    }
                }
            }
            case "LOST" -> {
                if (!copies.isEmpty()) {
                    problem = "the registry has " + id + " LOST (" + reg.getLostReason() + "), but " + copies.get(0).host()
                            + " runs it at epoch " + copies.get(0).epoch();
                }
                lostHasCheckpoint(id, reg);
            }
            case "UNKNOWN", "NEW" -> {
                Instances.Tracked t = instances.get(id);
                if (!copies.isEmpty() && t == null) {
                    problem = copies.get(0).host() + " runs " + id + ", which the registry does not know";
                }
            }
            default -> { }   // MIGRATING, RESTORING: in flight
        }
        if (problem == null) {
            disagreeSince.remove(id);
            ledger.passed("registry-agrees");
            return;
        }
        long now = ledger.elapsedMillis();
        long since = disagreeSince.computeIfAbsent(id, k -> now);
        disagreeWhat.put(id, problem);
        if (strict || now - since >= DISAGREE_MS) {
            ledger.failed("registry-agrees", problem + (strict ? "" : " (for " + (now - since) / 1000 + " s)"));
            disagreeSince.remove(id);
        }
    }

    private void lostHasCheckpoint(String id, RegisteredInstance reg) {
        Instances.Tracked t = instances.get(id);
        boolean everCheckpointed = t != null && t.checkpointsOk > 0;
        if (!everCheckpointed && reg.getLastCheckpoint().isEmpty()) {
            ledger.passed("lost-has-checkpoint");   // lost before any checkpoint existed: nothing to restore from
            return;
        }
        if (reg.getLastCheckpoint().isEmpty() || !Files.exists(Path.of(reg.getLastCheckpoint()))) {
            ledger.failed("lost-has-checkpoint", id + " is LOST (" + reg.getLostReason() + ") and was checkpointed, but "
                    + "the registry names " + (reg.getLastCheckpoint().isEmpty() ? "no checkpoint"
                    : "checkpoint " + reg.getLastCheckpoint() + ", which does not exist"));
        } else {
            ledger.passed("lost-has-checkpoint");
        }
    }
}
