package dev.ferry.orchestrator.http;

import com.google.protobuf.GeneratedMessage;
import com.google.protobuf.Message;
import dev.ferry.protocol.v1.DeployBody;
import dev.ferry.protocol.v1.DeploymentDone;
import dev.ferry.protocol.v1.EvacuateBody;
import dev.ferry.protocol.v1.ImageExport;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.InstanceListing;
import dev.ferry.protocol.v1.LaunchBody;
import dev.ferry.protocol.v1.MigrateBody;
import dev.ferry.protocol.v1.RestoreBody;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.vmm.boot.GuestImage;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.pf.PFBuilder;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The routes of the HTTP/JSON API, all under {@code /v1}:
 * <pre>
 * GET  /v1/status                     hosts and instances (ClusterStatus)
 * GET  /v1/instances                  every running instance (InstanceListing)
 * POST /v1/instances                  LaunchBody; 201 with the LaunchResult
 * GET  /v1/instances/{id}             the registry's RegisteredInstance; 404 for an unknown id
 * POST /v1/instances/{id}/migrate     MigrateBody; 200 with MigrationProgress lines, then MigrationDone (ndjson)
 * GET  /v1/instances/{id}/logs        ?lines=50; the console (ConsoleReply)
 * POST /v1/hosts/{host}/evacuate      EvacuateBody; the EvacuationReport
 * POST /v1/deployments                DeployBody; 200 with the LaunchResult, InstanceInfo lines while the disk
 *                                     streams, then DeploymentDone (ndjson); 404 for an image not served
 * </pre>
 * Slow calls (launch, evacuate, the first answer to a migration) get their own request timeout; nothing here
 * blocks a pekko-http thread: blocking work runs on {@code blocking}.
 */
public final class HttpApi extends AllDirectives {
    static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private static final Pattern GUEST_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    static final Duration SLOW = Duration.ofMinutes(30);
    private static final Duration FIRST_MIGRATION_ANSWER = Duration.ofSeconds(90);
    private static final Duration MIGRATION_SILENCE = Duration.ofMinutes(5);
    private static final int MAX_LINES = 10_000;
    private static final Duration DEPLOY_POLL = Duration.ofMillis(500);
    /** Polls in a row that find no report of a deploying instance before its answer ends, not ok. */
    private static final int DEPLOY_MISSING = 40;

    private final ControlPlane cluster;
    private final Materializer mat;
    private final Executor blocking;

    public HttpApi(ControlPlane cluster, Materializer mat, Executor blocking) {
        this.cluster = cluster;
        this.mat = mat;
        this.blocking = blocking;
    }

    public Route route() {
        return handleExceptions(ApiErrors.exceptionHandler(), () -> handleRejections(ApiErrors.rejectionHandler(), () ->
                pathPrefix("v1", () -> concat(
                        path("status", () -> get(() -> answer(cluster.status().thenApply(s -> Responses.json(200, s))))),
                        pathPrefix("instances", () -> concat(
                                pathEnd(() -> concat(get(this::list), post(this::launch))),
                                pathPrefix(PathMatchers.segment(), this::instance))),
                        path("deployments", () -> post(this::deploy)),
                        path(PathMatchers.segment("hosts").slash(PathMatchers.segment()).slash("evacuate"),
                                host -> post(() -> evacuate(host)))))));
    }

    /** Everything under {@code /v1/instances/{id}}: one line an operation. */
    private Route instance(String id) {
        if (!ID.matcher(id).matches()) {
            return answer(CompletableFuture.completedFuture(ApiErrors.response(404, "unknown instance " + id)));
        }
        return concat(
                pathEnd(() -> get(() -> answer(known(id).thenApply(r -> Responses.json(200, r))))),
                path("migrate", () -> post(() -> migrate(id))),
                path("checkpoint", () -> post(() -> checkpoint(id))),
                path("restore", () -> post(() -> restore(id))),
                path("logs", () -> get(() -> logs(id))));
    }

    private Route answer(CompletionStage<HttpResponse> response) {
        return onSuccess(response.exceptionally(ApiErrors::response), this::complete);
    }

    /** Reads the body as {@code builder}'s message and answers with what {@code handler} makes of it. */
    private <M extends Message> Route withBody(Message.Builder builder, Function<M, CompletionStage<HttpResponse>> handler) {
        return extractRequestEntity(entity -> answer(JsonBodies.<M>read(entity, builder, mat).thenCompose(handler)));
    }

    /** The registry's record of {@code id}, or a 404. */
    private CompletionStage<RegisteredInstance> known(String id) {
        return cluster.instance(id).thenApply(r -> {
            if (r.getState().equals("NEW") || r.getHost().isEmpty()) {
                throw new ApiException(404, "unknown instance " + id);
            }
            return r;
        });
    }

    private Route list() {
        return answer(cluster.status().thenApply(s -> Responses.json(200,
                InstanceListing.newBuilder().addAllInstances(s.getInstancesList()).build())));
    }

    private Route launch() {
        return withRequestTimeout(SLOW, () -> withBody(LaunchBody.newBuilder(), (LaunchBody b) -> {
            String guest = b.getGuest().trim();
            if (guest.isEmpty()) {
                throw new ApiException(400, "guest: required (a built-in guest, e.g. heartbeat)");
            }
            if (!GUEST_NAME.matcher(guest).matches()) {
                throw new ApiException(422, "guest: '" + guest + "' is not a built-in guest's name");
            }
            long memory = Units.memory("memory", b.getMemory().isBlank() ? "256M" : b.getMemory());
            String id = b.getId().isEmpty() ? guest + "-" + UUID.randomUUID().toString().substring(0, 6) : b.getId();
            if (!ID.matcher(id).matches()) {
                throw new ApiException(400, "id: '" + id + "' must be 1 to 63 letters, digits, '_', '.' or '-', "
                        + "starting with a letter or digit");
            }
            return CompletableFuture.runAsync(() -> checkGuest(guest), blocking)
                    .thenCompose(x -> cluster.launch(id, guest, memory, b.getArgsMap(), b.getHost()))
                    .thenApply(r -> r.getOk()
                            ? Responses.json(201, r, List.of(Location.create("/v1/instances/" + id)))
                            : ApiErrors.response(ApiErrors.launchRefusal(r.getError()), r.getError()));
        }));
    }

    /**
     * Checks the image against what the storage node serves, launches through the orchestrator, then streams the
     * host agent's reports of the deployment until it ends (LOCAL, FAILED, STOPPED, or the instance stops running).
     */
    private Route deploy() {
        return withRequestTimeout(SLOW, () -> withBody(DeployBody.newBuilder(), (DeployBody b) -> {
            String image = b.getImage().trim();
            if (image.isEmpty()) {
                throw new ApiException(400, "image: required (an image the storage node serves)");
            }
            String guest = b.getGuest().isBlank() ? "reader" : b.getGuest().trim();
            if (!GUEST_NAME.matcher(guest).matches()) {
                throw new ApiException(422, "guest: '" + guest + "' is not a built-in guest's name");
            }
            long memory = Units.memory("memory", b.getMemory().isBlank() ? "512M" : b.getMemory());
            long copyRate = b.getCopyRate().isBlank() ? 0 : Units.memory("copy_rate", b.getCopyRate());
            String id = !b.getId().isEmpty() ? b.getId() : image.replaceAll("[^A-Za-z0-9_.-]", "-")
                    .replaceAll("\\.[^.]*$", "") + "-" + UUID.randomUUID().toString().substring(0, 6);
            if (!ID.matcher(id).matches()) {
                throw new ApiException(400, "id: '" + id + "' must be 1 to 63 letters, digits, '_', '.' or '-', "
                        + "starting with a letter or digit");
            }
            return CompletableFuture.runAsync(() -> checkGuest(guest), blocking)
                    .thenCompose(x -> cluster.images())
                    .thenCompose(images -> {
                        if (!images.getError().isEmpty()) {
                            throw new ApiException(503, (images.getNode().isEmpty() ? "" : "storage node "
                                    + images.getNode() + ": ") + images.getError());
                        }
                        if (images.getExportsList().stream().noneMatch(e -> e.getName().equals(image))) {
                            throw new ApiException(404, "image '" + image + "' not found on storage node "
                                    + images.getNode() + "; it serves " + (images.getExportsCount() == 0 ? "no images"
                                    : images.getExportsList().stream().map(HttpApi::describe)
                                    .collect(java.util.stream.Collectors.joining(", "))));
                        }
                        return cluster.deploy(id, guest, memory, b.getArgsMap(), b.getHost(), image,
                                images.getNbdHost() + ":" + images.getNbdPort(), copyRate);
                    })
                    .thenApply(r -> r.getOk()
                            ? Responses.ndjson(Source.<GeneratedMessage>single(r).concat(progress(r.getHost(), id)))
                            : ApiErrors.response(ApiErrors.launchRefusal(r.getError()), r.getError()));
        }));
    }

    private static String describe(ImageExport e) {
        return e.getName() + " (" + dev.ferry.vmm.memory.MemorySize.format(e.getSizeBytes()) + ")";
    }

    /** The agent's reports of {@code id} every {@link #DEPLOY_POLL}, then the DeploymentDone they end with. */
    private Source<GeneratedMessage, NotUsed> progress(String host, String id) {
        return Source.tick(Duration.ZERO, DEPLOY_POLL, "poll").mapMaterializedValue(c -> NotUsed.notUsed())
                .mapAsync(1, x -> cluster.instanceOn(host, id).exceptionally(unreachable -> Optional.empty()))
                .statefulMapConcat(() -> {
                    int[] missing = {0};
                    return info -> {
                        if (info.isEmpty()) {
                            return ++missing[0] < DEPLOY_MISSING ? List.of() : List.<GeneratedMessage>of(
                                    DeploymentDone.newBuilder().setInstanceId(id).setHost(host).setOk(false)
                                            .setState("UNKNOWN").setError("host " + host + " has not reported " + id
                                                    + " for " + DEPLOY_MISSING * DEPLOY_POLL.toMillis() / 1000 + " s")
                                            .build());
                        }
                        missing[0] = 0;
                        InstanceInfo i = info.get();
                        DeploymentDone done = ended(host, i);
                        return done == null ? List.<GeneratedMessage>of(i) : List.<GeneratedMessage>of(i, done);
                    };
                })
                .takeWhile(m -> !(m instanceof DeploymentDone), true);
    }

    /** The DeploymentDone for a report that ends the deployment, or null while it goes on. */
    static DeploymentDone ended(String host, InstanceInfo i) {
        String state = i.getDeployState();
        boolean over = state.equals("LOCAL") || state.equals("FAILED") || state.equals("STOPPED")
                || state.equals("INTERRUPTED") || !i.getState().equals("RUNNING");
        if (!over) {
            return null;
        }
        boolean ok = state.equals("LOCAL") && i.getState().equals("RUNNING");
        return DeploymentDone.newBuilder().setInstanceId(i.getInstanceId()).setHost(host).setOk(ok)
                .setState(i.getState().equals("RUNNING") ? state : i.getState())
                .setError(ok ? "" : "deployment of " + i.getInstanceId() + " on " + host + " ended " + state
                        + " (instance " + i.getState() + "): " + i.getDeployMessage())
                .setFirstLineMs(i.getFirstLineMs()).setCopyMs(i.getCopyMs()).setDevirtMs(i.getDevirtMs())
                .setTotalBytes(i.getTotalBytes()).setDiskPath(i.getDiskPath()).build();
    }

    /** Only built-in guests by name (a path would name a file on the host): loads it to be sure it is one. */
    private static void checkGuest(String guest) {
        try {
            GuestImage.load(guest);
        } catch (IllegalArgumentException e) {
            throw new ApiException(422, "guest: " + e.getMessage());
        }
    }

    /**
     * Waits for the orchestrator's first answer: a refusal (a MigrationDone, not ok, before any progress) becomes a
     * status code; anything else starts a 200 ndjson stream whose last line is the MigrationDone.
     */
    private Route migrate(String id) {
        return withRequestTimeout(SLOW, () -> withBody(MigrateBody.newBuilder(), (MigrateBody b) -> {
            long downtime = Units.micros("downtime", b.getDowntime().isBlank() ? "50ms" : b.getDowntime());
            Source<GeneratedMessage, NotUsed> answers = cluster.migrate(id, b.getTo(), downtime)
                    .initialTimeout(FIRST_MIGRATION_ANSWER).idleTimeout(MIGRATION_SILENCE)
                    .recover(new PFBuilder<Throwable, GeneratedMessage>().match(Throwable.class, t -> MigrationDone
                            .newBuilder().setOk(false).setError("no answer from the orchestrator about the migration of "
                                    + id + " (" + t.getMessage() + "); GET /v1/instances/" + id + " says where it runs")
                            .build()).build());
            return answers.prefixAndTail(1).runWith(Sink.head(), mat).thenApply(p -> {
                GeneratedMessage first = p.first().isEmpty() ? null : p.first().get(0);
                if (first == null) {
                    throw new ApiException(502, "the orchestrator ended the migration of " + id + " without an answer");
                }
                if (first instanceof MigrationDone d && !d.getOk()) {
                    return ApiErrors.response(ApiErrors.migrationRefusal(d.getError()), d.getError());
                }
                return Responses.ndjson(Source.single(first).concat(p.second()));
            });
        }));
    }

    private Route checkpoint(String id) {
        return withRequestTimeout(SLOW, () -> answer(cluster.checkpoint(id).thenApply(r -> r.getOk()
                ? Responses.json(200, r) : ApiErrors.response(ApiErrors.snapshotRefusal(r.getError()), r.getError()))));
    }

    private Route restore(String id) {
        return withRequestTimeout(SLOW, () -> withBody(RestoreBody.newBuilder(), (RestoreBody b) ->
                cluster.restore(id, b.getFrom(), b.getHost()).thenApply(r -> r.getOk()
                        ? Responses.json(200, r) : ApiErrors.response(ApiErrors.snapshotRefusal(r.getError()), r.getError()))));
    }

    private Route evacuate(String host) {
        return withRequestTimeout(SLOW, () -> withBody(EvacuateBody.newBuilder(), (EvacuateBody b) -> {
            int parallel = b.getParallel() == 0 ? 2 : b.getParallel();
            if (parallel < 1 || parallel > 16) {
                throw new ApiException(400, "parallel: " + Integer.toUnsignedString(b.getParallel()) + " is not 1 to 16");
            }
            long downtime = Units.micros("downtime", b.getDowntime().isBlank() ? "50ms" : b.getDowntime());
            return cluster.status().thenCompose(s -> {
                if (s.getHostsList().stream().noneMatch(h -> h.getHost().equals(host))) {
                    throw new ApiException(404, "unknown host " + host);
                }
                return cluster.evacuate(host, parallel, downtime);
            }).thenApply(r -> Responses.json(200, r));
        }));
    }

    private Route logs(String id) {
        return parameterOptional("lines", lines -> answer(attempt(() -> {
            int n = lines(lines);
            return known(id).thenCompose(r -> cluster.console(id, n).thenApply(c -> {
                if (!c.getFound()) {
                    throw new ApiException(409, "instance " + id + " is " + r.getState() + " on " + r.getHost()
                            + " but that host does not run it");
                }
                return Responses.json(200, c);
            }));
        })));
    }

    private static CompletionStage<HttpResponse> attempt(java.util.function.Supplier<CompletionStage<HttpResponse>> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static int lines(Optional<String> text) {
        if (text.isEmpty()) {
            return 50;
        }
        try {
            int n = Integer.parseInt(text.get().trim());
            if (n >= 1 && n <= MAX_LINES) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new ApiException(400, "lines: '" + text.get() + "' is not a number from 1 to " + MAX_LINES);
    }
}
