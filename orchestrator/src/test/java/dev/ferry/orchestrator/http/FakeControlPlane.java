package dev.ferry.orchestrator.http;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.RestoreResult;
import dev.ferry.protocol.v1.ConsoleReply;
import dev.ferry.protocol.v1.EvacuationReport;
import dev.ferry.protocol.v1.HostSummary;
import dev.ferry.protocol.v1.ImageExport;
import dev.ferry.protocol.v1.ImageList;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationProgress;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A cluster in memory: hosts h1 and h2, instances launched here run on the host asked for (h1 by default), ids
 * already taken are refused as the orchestrator does, a migration reports two rounds and succeeds. Storage node s1
 * serves os.raw (96 MiB); a deployed instance's disk is reported streaming 32 MiB more at each poll until local.
 */
final class FakeControlPlane implements ControlPlane {
    record Launch(String id, String guest, long memory, Map<String, String> args, String host) {}

    final Map<String, RegisteredInstance> instances = new ConcurrentHashMap<>();
    final List<Launch> launches = Collections.synchronizedList(new ArrayList<>());
    volatile boolean silent;
    /** Deployed instances: image, server, copy rate, and how many polls have seen them. */
    record Deploy(String id, String image, String server, long copyRate, int[] polls) {}

    final Map<String, Deploy> deploys = new ConcurrentHashMap<>();
    static final long IMAGE = 96L << 20;

    @Override
    public CompletionStage<ImageList> images() {
        return CompletableFuture.completedFuture(ImageList.newBuilder().setNode("s1").setNbdHost("127.0.0.1")
                .setNbdPort(10809).addExports(ImageExport.newBuilder().setName("os.raw").setSizeBytes(IMAGE))
                .addExports(ImageExport.newBuilder().setName("other.img").setSizeBytes(4096)).build());
    }

    @Override
    public CompletionStage<LaunchResult> deploy(String id, String guest, long memoryBytes, Map<String, String> args,
                                                String host, String image, String imageServer, long copyRate) {
        return launch(id, guest, memoryBytes, args, host).thenApply(r -> {
            if (r.getOk()) {
                deploys.put(id, new Deploy(id, image, imageServer, copyRate, new int[1]));
            }
            return r;
        });
    }

    @Override
    public CompletionStage<Optional<InstanceInfo>> instanceOn(String host, String id) {
        Deploy d = deploys.get(id);
        RegisteredInstance r = instances.get(id);
        if (d == null || r == null || !r.getHost().equals(host)) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        long copied = Math.min(IMAGE, 32L * (1 << 20) * ++d.polls()[0]);
        String state = copied == IMAGE ? "LOCAL" : "STREAMING";
        return CompletableFuture.completedFuture(Optional.of(InstanceInfo.newBuilder().setInstanceId(id)
                .setState("RUNNING").setImage(d.image()).setDeployState(state)
                .setDeployMessage(copied == IMAGE ? "local; virtualization OFF" : "streaming").setCopiedBytes(copied)
                .setTotalBytes(IMAGE).setFirstLineMs(40).setCopyMs(copied == IMAGE ? 1500 : -1)
                .setDevirtMs(copied == IMAGE ? 3 : -1).setDiskPath("/data/" + host + "/disks/" + id + ".img").build()));
    }

    @Override
    public CompletionStage<ClusterStatus> status() {
        if (silent) {
            return CompletableFuture.failedFuture(new org.apache.pekko.pattern.AskTimeoutException("Ask timed out"));
        }
        return CompletableFuture.completedFuture(ClusterStatus.newBuilder()
                .addHosts(HostSummary.newBuilder().setHost("h1").setMemoryCapacity(2L << 30))
                .addHosts(HostSummary.newBuilder().setHost("h2").setMemoryCapacity(2L << 30))
                .addAllInstances(instances.values()).build());
    }

    @Override
    public CompletionStage<CheckpointResult> checkpoint(String id) {
        RegisteredInstance r = instances.get(id);
        CheckpointResult.Builder b = CheckpointResult.newBuilder().setInstanceId(id);
        if (r == null) {
            return CompletableFuture.completedFuture(b.setOk(false).setError("unknown instance " + id).build());
        }
        String path = "/checkpoints/" + id + "/e" + r.getEpoch() + ".ferry";
        instances.put(id, r.toBuilder().setLastCheckpoint(path).setCheckpoints(r.getCheckpoints() + 1).build());
        return CompletableFuture.completedFuture(b.setOk(true).setPath(path).setHost(r.getHost()).setBytes(4096).build());
    }

    @Override
    public CompletionStage<RestoreResult> restore(String id, String from, String host) {
        RegisteredInstance r = instances.get(id);
        RestoreResult.Builder b = RestoreResult.newBuilder().setInstanceId(id);
        if (r == null) {
            return CompletableFuture.completedFuture(b.setOk(false).setError("unknown instance " + id).build());
        }
        String checkpoint = from.isEmpty() ? r.getLastCheckpoint() : from;
        if (checkpoint.isEmpty()) {
            return CompletableFuture.completedFuture(b.setOk(false).setError("instance " + id + " has no checkpoint").build());
        }
        String on = host.isEmpty() ? r.getHost() : host;
        instances.put(id, r.toBuilder().setHost(on).setEpoch(r.getEpoch() + 1).build());
        return CompletableFuture.completedFuture(b.setOk(true).setHost(on).setEpoch(r.getEpoch() + 1)
                .setCheckpoint(checkpoint).build());
    }

    @Override
    public CompletionStage<RegisteredInstance> instance(String id) {
        return CompletableFuture.completedFuture(instances.getOrDefault(id,
                RegisteredInstance.newBuilder().setInstanceId(id).setState("NEW").build()));
    }

    @Override
    public CompletionStage<LaunchResult> launch(String id, String guest, long memoryBytes, Map<String, String> args,
                                                String host) {
        launches.add(new Launch(id, guest, memoryBytes, args, host));
        RegisteredInstance old = instances.get(id);
        if (old != null) {
            return CompletableFuture.completedFuture(LaunchResult.newBuilder().setInstanceId(id).setOk(false)
                    .setError("instance " + id + " already exists (on " + old.getHost() + ")").build());
        }
        String on = host.isEmpty() ? "h1" : host;
        instances.put(id, RegisteredInstance.newBuilder().setInstanceId(id).setGuest(guest).setMemoryBytes(memoryBytes)
                .setHost(on).setEpoch(1).setState("RUNNING").build());
        return CompletableFuture.completedFuture(LaunchResult.newBuilder().setInstanceId(id).setOk(true).setHost(on).build());
    }

    @Override
    public Source<GeneratedMessage, NotUsed> migrate(String id, String target, long downtimeMicros) {
        RegisteredInstance r = instances.get(id);
        if (r == null) {
            return Source.single(MigrationDone.newBuilder().setOk(false).setError("unknown instance " + id).build());
        }
        String to = target.isEmpty() ? "h2" : target;
        return Source.from(List.<GeneratedMessage>of(
                MigrationProgress.newBuilder().setPhase("PRECOPY").setRound(1).setPagesLeft(100).build(),
                MigrationProgress.newBuilder().setPhase("PRECOPY").setRound(2).setPagesLeft(3).build(),
                MigrationDone.newBuilder().setOk(true).setDestinationHost(to).setRounds(2)
                        .setDowntimeMicros(downtimeMicros / 2).build()));
    }

    @Override
    public CompletionStage<EvacuationReport> evacuate(String host, int parallel, long downtimeMicros) {
        return CompletableFuture.completedFuture(EvacuationReport.newBuilder().setHost(host).setOk(true).build());
    }

    @Override
    public CompletionStage<ConsoleReply> console(String id, int lines) {
        return CompletableFuture.completedFuture(ConsoleReply.newBuilder().setInstanceId(id)
                .setFound(instances.containsKey(id)).addLines("beat 1").addLines("beat 2").build());
    }
}
