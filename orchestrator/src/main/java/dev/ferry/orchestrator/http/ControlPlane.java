package dev.ferry.orchestrator.http;

import com.google.protobuf.GeneratedMessage;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.RestoreResult;
import dev.ferry.protocol.v1.ConsoleReply;
import dev.ferry.protocol.v1.EvacuationReport;
import dev.ferry.protocol.v1.ImageList;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/** What the HTTP API asks of the cluster; every call returns at once. */
public interface ControlPlane extends AutoCloseable {
    /** Hosts and the instances they run. */
    CompletionStage<ClusterStatus> status();

    /** The registry's record of {@code id}: state NEW for an id it has never seen. */
    CompletionStage<RegisteredInstance> instance(String id);

    /** Places and launches an instance ({@code host} empty: wherever there is room); refusals come back not ok. */
    CompletionStage<LaunchResult> launch(String id, String guest, long memoryBytes, Map<String, String> args,
                                         String host);

    /** What the cluster's storage node serves; {@code error} set when there is none or it cannot list. */
    CompletionStage<ImageList> images();

    /**
     * Places and launches {@code id} with its disk streamed from {@code image} on the NBD server {@code imageServer}
     * (host:port), copied in the background at most {@code copyRate} bytes per second (0: unlimited).
     */
    CompletionStage<LaunchResult> deploy(String id, String guest, long memoryBytes, Map<String, String> args,
                                         String host, String image, String imageServer, long copyRate);

    /** What the agent of {@code host} reports about {@code id} (its deployment's progress); empty if nothing. */
    CompletionStage<Optional<InstanceInfo>> instanceOn(String host, String id);

    /**
     * Migrates {@code id} ({@code target} empty: the orchestrator chooses): MigrationProgress reports, then one
     * MigrationDone, after which the source completes. A refused migration is a single MigrationDone, not ok.
     */
    Source<GeneratedMessage, NotUsed> migrate(String id, String target, long downtimeMicros);

    /** Moves every instance off {@code host}, {@code parallel} at a time. */
    CompletionStage<EvacuationReport> evacuate(String host, int parallel, long downtimeMicros);

    /** The last {@code lines} console lines of {@code id}, from the host that runs it ({@code found} false: none). */
    CompletionStage<ConsoleReply> console(String id, int lines);

    /** Checkpoints {@code id} where it runs; the registry remembers the file. */
    CompletionStage<CheckpointResult> checkpoint(String id);

    /** Restores {@code id} from {@code from} (empty: its newest checkpoint) on {@code host} (empty: placement's choice). */
    CompletionStage<RestoreResult> restore(String id, String from, String host);

    @Override
    default void close() {}
}
