package dev.ferry.orchestrator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.typesafe.config.ConfigFactory;
import dev.ferry.protocol.v1.ApiError;
import dev.ferry.protocol.v1.CheckpointResult;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.RestoreResult;
import dev.ferry.protocol.v1.ConsoleReply;
import dev.ferry.protocol.v1.DeploymentDone;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationProgress;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The routes, served on a free port of 127.0.0.1 against a cluster in memory, as a client sees them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpApiTest {
    private ActorSystem<Void> system;
    private FakeControlPlane cluster;
    private HttpServer server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start() throws Exception {
        system = ActorSystem.create(Behaviors.empty(), "http-api-test",
                ConfigFactory.parseString("pekko.loglevel = WARNING").withFallback(ConfigFactory.defaultReference()));
        cluster = new FakeControlPlane();
        server = HttpServer.start(system, "127.0.0.1", 0, cluster);
    }

    @AfterAll
    void stop() throws Exception {
        try {
            server.close();
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get();
        }
    }

    @BeforeEach
    void empty() {
        cluster.instances.clear();
        cluster.launches.clear();
        cluster.silent = false;
        cluster.deploys.clear();
    }

    private HttpResponse<String> send(String method, String path, HttpRequest.BodyPublisher body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(20))
                .method(method, body).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String json) throws Exception {
        return send("POST", path, HttpRequest.BodyPublishers.ofString(json));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return send("GET", path, HttpRequest.BodyPublishers.noBody());
    }

    @SuppressWarnings("unchecked")
    private static <M extends Message> M parse(String json, Message.Builder b) throws Exception {
        JsonFormat.parser().merge(json, b);
        return (M) b.build();
    }

    /** The answer is {@code status} with an ApiError whose text contains {@code fragment}. */
    private static ApiError assertError(int status, String fragment, HttpResponse<String> r) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""), r.body());
        ApiError e = parse(r.body(), ApiError.newBuilder());
        assertEquals(status, e.getStatus());
        assertTrue(e.getError().contains(fragment), "'" + e.getError() + "' should say '" + fragment + "'");
        return e;
    }

    @Test
    void launchesWith201AndTheHostAndPassesSizesAndArgumentsOn() throws Exception {
        var r = post("/v1/instances", """
                {"id":"web","guest":"heartbeat","memory":"512M","host":"h2","args":{"interval_ms":"100"}}""");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("/v1/instances/web", r.headers().firstValue("location").orElse(""));
        LaunchResult l = parse(r.body(), LaunchResult.newBuilder());
        assertTrue(l.getOk());
        assertEquals("h2", l.getHost());
        assertEquals(List.of(new FakeControlPlane.Launch("web", "heartbeat", 512L << 20, Map.of("interval_ms", "100"),
                "h2")), cluster.launches);
    }

    @Test
    void refusesMalformedJsonWith400SayingWhereItBroke() throws Exception {
        ApiError e = assertError(400, "not a valid LaunchBody in JSON", post("/v1/instances", "{\"guest\": \"heartbeat\","));
        assertTrue(e.getError().contains("line 1"), e.getError());
        assertTrue(cluster.launches.isEmpty());
    }

    @Test
    void refusesAnUnknownFieldWith400NamingIt() throws Exception {
        assertError(400, "gust", post("/v1/instances", "{\"gust\":\"heartbeat\"}"));
        assertTrue(cluster.launches.isEmpty());
    }

    @Test
    void refusesABodyOverTheCapWith413WhetherItsLengthIsDeclaredOrNot() throws Exception {
        String big = "{\"guest\":\"heartbeat\",\"args\":{\"pad\":\"" + "x".repeat(JsonBodies.MAX_BYTES) + "\"}}";
        assertError(413, "larger than 65536 bytes", post("/v1/instances", big));
        var chunked = send("POST", "/v1/instances", HttpRequest.BodyPublishers.ofInputStream(
                () -> new ByteArrayInputStream(big.getBytes())));
        assertError(413, "larger than 65536 bytes", chunked);
        assertTrue(cluster.launches.isEmpty());
    }

    @Test
    void refusesABadMemorySizeWith400() throws Exception {
        assertError(400, "memory: 'lots' is not a memory size", post("/v1/instances", "{\"guest\":\"heartbeat\",\"memory\":\"lots\"}"));
        assertError(400, "memory: '0' is not more than zero", post("/v1/instances", "{\"guest\":\"heartbeat\",\"memory\":\"0\"}"));
        assertTrue(cluster.launches.isEmpty());
    }

    @Test
    void refusesMissingOrUnknownGuestsAndPaths() throws Exception {
        assertError(400, "guest: required", post("/v1/instances", "{\"id\":\"x\"}"));
        assertError(422, "unknown guest 'nosuchguest'", post("/v1/instances", "{\"guest\":\"nosuchguest\"}"));
        assertError(422, "is not a built-in guest's name", post("/v1/instances", "{\"guest\":\"/etc/passwd\"}"));
        assertError(400, "id: 'a/b'", post("/v1/instances", "{\"guest\":\"heartbeat\",\"id\":\"a/b\"}"));
        assertTrue(cluster.launches.isEmpty());
    }

    @Test
    void answers409WhenTheIdIsTakenWithTheOrchestratorsText() throws Exception {
        assertEquals(201, post("/v1/instances", "{\"id\":\"db\",\"guest\":\"heartbeat\"}").statusCode());
        assertError(409, "instance db already exists (on h1)", post("/v1/instances", "{\"id\":\"db\",\"guest\":\"heartbeat\"}"));
    }

    @Test
    void answers404ForAnUnknownInstanceEverywhere() throws Exception {
        assertError(404, "unknown instance nosuch", get("/v1/instances/nosuch"));
        assertError(404, "unknown instance nosuch", get("/v1/instances/nosuch/logs"));
        assertError(404, "unknown instance nosuch", post("/v1/instances/nosuch/migrate", "{}"));
        assertError(404, "unknown host h9", post("/v1/hosts/h9/evacuate", "{}"));
    }

    @Test
    void checkpointsAndRestoresWithTheRegistrysRefusalsAsStatusCodes() throws Exception {
        assertError(404, "unknown instance nosuch", post("/v1/instances/nosuch/checkpoint", ""));
        assertError(404, "unknown instance nosuch", post("/v1/instances/nosuch/restore", "{}"));
        post("/v1/instances", "{\"id\":\"cp\",\"guest\":\"heartbeat\"}");
        assertError(422, "has no checkpoint", post("/v1/instances/cp/restore", ""));
        assertError(400, "RestoreBody", post("/v1/instances/cp/restore", "{\"form\":\"x\"}"));
        var taken = post("/v1/instances/cp/checkpoint", "");
        assertEquals(200, taken.statusCode(), taken.body());
        CheckpointResult c = parse(taken.body(), CheckpointResult.newBuilder());
        assertEquals("/checkpoints/cp/e1.ferry", c.getPath());
        var restored = post("/v1/instances/cp/restore", "{\"host\":\"h2\"}");
        assertEquals(200, restored.statusCode(), restored.body());
        RestoreResult r = parse(restored.body(), RestoreResult.newBuilder());
        assertEquals("h2", r.getHost());
        assertEquals(2, r.getEpoch());
        assertEquals(c.getPath(), r.getCheckpoint());
    }

    @Test
    void listsAndShowsLaunchedInstances() throws Exception {
        post("/v1/instances", "{\"id\":\"web\",\"guest\":\"heartbeat\"}");
        var one = get("/v1/instances/web");
        assertEquals(200, one.statusCode(), one.body());
        RegisteredInstance r = parse(one.body(), RegisteredInstance.newBuilder());
        assertEquals("h1", r.getHost());
        assertEquals(256L << 20, r.getMemoryBytes(), "memory defaults to 256M");
        var all = get("/v1/instances");
        assertTrue(all.body().contains("\"instance_id\": \"web\""), all.body());
        ClusterStatus s = parse(get("/v1/status").body(), ClusterStatus.newBuilder());
        assertEquals(2, s.getHostsCount());
        assertEquals(1, s.getInstancesCount());
    }

    @Test
    void streamsMigrationProgressAsNdjsonEndingWithTheSummary() throws Exception {
        post("/v1/instances", "{\"id\":\"web\",\"guest\":\"heartbeat\"}");
        var r = post("/v1/instances/web/migrate", "{\"to\":\"h2\",\"downtime\":\"40ms\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/x-ndjson", r.headers().firstValue("content-type").orElse(""));
        List<String> lines = r.body().lines().toList();
        assertEquals(3, lines.size(), r.body());
        MigrationProgress first = parse(lines.get(0), MigrationProgress.newBuilder());
        assertEquals(1, first.getRound());
        MigrationDone done = parse(lines.get(2), MigrationDone.newBuilder());
        assertTrue(done.getOk());
        assertEquals("h2", done.getDestinationHost());
        assertEquals(20_000, done.getDowntimeMicros(), "the fake halves the 40 ms limit it was given");
        assertTrue(lines.get(2).contains("\"ok\":true"), lines.get(2));
    }

    @Test
    void deploysWithTheLaunchThenStreamedProgressThenTheSummaryAsNdjson() throws Exception {
        var r = post("/v1/deployments", """
                {"image":"os.raw","id":"web","memory":"128M","host":"h2","copy_rate":"16M","args":{"boot_mib":"4"}}""");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/x-ndjson", r.headers().firstValue("content-type").orElse(""));
        List<String> lines = r.body().lines().toList();
        assertEquals(1 + 3 + 1, lines.size(), "the launch, 32, 64 and 96 MiB local, the summary: " + r.body());
        LaunchResult launched = parse(lines.get(0), LaunchResult.newBuilder());
        assertTrue(launched.getOk());
        assertEquals("h2", launched.getHost());
        InstanceInfo first = parse(lines.get(1), InstanceInfo.newBuilder());
        assertEquals("STREAMING", first.getDeployState());
        assertEquals(32L << 20, first.getCopiedBytes());
        DeploymentDone done = parse(lines.get(4), DeploymentDone.newBuilder());
        assertTrue(done.getOk(), done.toString());
        assertEquals("LOCAL", done.getState());
        assertEquals(96L << 20, done.getTotalBytes());
        assertEquals(List.of(new FakeControlPlane.Launch("web", "reader", 128L << 20, Map.of("boot_mib", "4"), "h2")),
                cluster.launches);
        assertEquals("127.0.0.1:10809", cluster.deploys.get("web").server());
        assertEquals(16L << 20, cluster.deploys.get("web").copyRate());
    }

    @Test
    void refusesADeploymentOfAnImageNotServedOrWithoutOneAndATakenId() throws Exception {
        ApiError missing = assertError(404, "image 'nosuch.raw' not found on storage node s1",
                post("/v1/deployments", "{\"image\":\"nosuch.raw\"}"));
        assertTrue(missing.getError().contains("os.raw (96 MiB)") && missing.getError().contains("other.img"),
                missing.getError());
        assertError(400, "image: required", post("/v1/deployments", "{\"id\":\"x\"}"));
        assertError(400, "copy_rate", post("/v1/deployments", "{\"image\":\"os.raw\",\"copy_rate\":\"fast\"}"));
        assertError(422, "guest", post("/v1/deployments", "{\"image\":\"os.raw\",\"guest\":\"../etc\"}"));
        post("/v1/instances", "{\"id\":\"web\",\"guest\":\"heartbeat\"}");
        assertError(409, "already exists", post("/v1/deployments", "{\"image\":\"os.raw\",\"id\":\"web\"}"));
        assertTrue(cluster.deploys.isEmpty());
    }

    @Test
    void refusesBadMigrationAndEvacuationParametersWith400() throws Exception {
        post("/v1/instances", "{\"id\":\"web\",\"guest\":\"heartbeat\"}");
        assertError(400, "downtime: 'soon' is not a duration", post("/v1/instances/web/migrate", "{\"downtime\":\"soon\"}"));
        assertError(400, "parallel: 17 is not 1 to 16", post("/v1/hosts/h1/evacuate", "{\"parallel\":17}"));
        assertError(400, "lines: 'many'", get("/v1/instances/web/logs?lines=many"));
    }

    @Test
    void servesTheConsoleAndEvacuations() throws Exception {
        post("/v1/instances", "{\"id\":\"web\",\"guest\":\"heartbeat\"}");
        var logs = get("/v1/instances/web/logs?lines=2");
        assertEquals(200, logs.statusCode(), logs.body());
        assertEquals(List.of("beat 1", "beat 2"), ((ConsoleReply) parse(logs.body(), ConsoleReply.newBuilder())).getLinesList());
        var ev = send("POST", "/v1/hosts/h1/evacuate", HttpRequest.BodyPublishers.noBody());
        assertEquals(200, ev.statusCode(), ev.body());
        assertTrue(ev.body().contains("\"ok\": true"), ev.body());
    }

    @Test
    void answersWithJsonErrorsForWrongMethodsPathsAndASilentOrchestrator() throws Exception {
        assertError(405, "", send("DELETE", "/v1/status", HttpRequest.BodyPublishers.noBody()));
        assertError(404, "", get("/v1/nothing-here"));
        cluster.silent = true;
        assertError(503, "did not answer in time", get("/v1/status"));
    }
}
