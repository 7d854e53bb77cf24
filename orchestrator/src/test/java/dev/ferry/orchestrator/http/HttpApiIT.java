package dev.ferry.orchestrator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.ferry.host.local.HostProcess;
import dev.ferry.host.local.LocalCluster;
import dev.ferry.host.storage.StorageNode;
import dev.ferry.orchestrator.OrchestratorNode;
import dev.ferry.protocol.v1.ApiError;
import dev.ferry.protocol.v1.ClusterStatus;
import dev.ferry.protocol.v1.ConsoleReply;
import dev.ferry.protocol.v1.DeploymentDone;
import dev.ferry.protocol.v1.InstanceInfo;
import dev.ferry.protocol.v1.EvacuationReport;
import dev.ferry.protocol.v1.InstanceListing;
import dev.ferry.protocol.v1.LaunchResult;
import dev.ferry.protocol.v1.MigrationDone;
import dev.ferry.protocol.v1.MigrationProgress;
import dev.ferry.protocol.v1.RegisteredInstance;
import dev.ferry.vmm.testing.RequiresKvm;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API of a forked orchestrator node (with two forked hosts, guests really running): what curl would do,
 * through java.net.http.
 */
@RequiresKvm
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpApiIT {
    private static final long GIB = 1L << 30;

    @TempDir
    static Path dir;
    private LocalCluster cluster;
    private String url;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start() throws Exception {
        cluster = new LocalCluster(dir);
        cluster.startHost("h1", 2 * GIB);
        cluster.startHost("h2", 2 * GIB);
        Path images = Files.createDirectories(dir.resolve("images"));
        byte[] os = new byte[32 << 20];
        new java.util.SplittableRandom(7).nextBytes(os);
        Files.write(images.resolve("os.raw"), os);
        cluster.startNode(StorageNode.class.getName(), StorageNode.UP_LINE, "s1", List.of("--images", images.toString()));
        HostProcess orch = cluster.startNode(OrchestratorNode.class.getName(), OrchestratorNode.UP_LINE, "orch",
                List.of("--http-port", "0"));
        url = HttpServer.listeningUrl(Files.readString(orch.log()))
                .orElseThrow(() -> new AssertionError("the orchestrator printed no HTTP URL:\n" + orch.tail()));
        assertTrue(url.startsWith("http://127.0.0.1:"), url);
        long deadline = System.currentTimeMillis() + 60_000;
        while (status().getHostsCount() < 2) {
            assertTrue(System.currentTimeMillis() < deadline, "the orchestrator found fewer than 2 hosts in 60 s");
            Thread.sleep(250);
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private HttpResponse<String> send(String method, String path, String json) throws Exception {
        return http.send(request(method, path, json), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest request(String method, String path, String json) {
        return HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(90))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build();
    }

    @SuppressWarnings("unchecked")
    private static <M extends Message> M parse(String json, Message.Builder b) throws Exception {
        JsonFormat.parser().merge(json, b);
        return (M) b.build();
    }

    private <M extends Message> M ok(int status, HttpResponse<String> r, Message.Builder b) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        return parse(r.body(), b);
    }

    private void assertError(int status, String fragment, HttpResponse<String> r) throws Exception {
        ApiError e = ok(status, r, ApiError.newBuilder());
        assertTrue(e.getError().contains(fragment), "'" + e.getError() + "' should say '" + fragment + "'");
    }

    private ClusterStatus status() throws Exception {
        return ok(200, send("GET", "/v1/status", null), ClusterStatus.newBuilder());
    }

    /** The console, once the guest has printed something (it prints every 50 ms). */
    private ConsoleReply logs(String id) throws Exception {
        long deadline = System.currentTimeMillis() + 15_000;
        while (true) {
            ConsoleReply c = ok(200, send("GET", "/v1/instances/" + id + "/logs?lines=5", null), ConsoleReply.newBuilder());
            if (c.getLinesCount() > 0 || System.currentTimeMillis() > deadline) {
                return c;
            }
            Thread.sleep(200);
        }
    }

    @Test
    void launchesListsMigratesWithLiveProgressAndReadsTheConsole() throws Exception {
        LaunchResult l = ok(201, send("POST", "/v1/instances", """
                {"id":"web","guest":"heartbeat","memory":"256M","host":"h1","args":{"interval_ms":"50"}}"""),
                LaunchResult.newBuilder());
        assertEquals("h1", l.getHost());
        InstanceListing all = ok(200, send("GET", "/v1/instances", null), InstanceListing.newBuilder());
        assertTrue(all.getInstancesList().stream().anyMatch(i -> i.getInstanceId().equals("web") && i.getHost().equals("h1")),
                all.toString());
        ConsoleReply before = logs("web");
        assertTrue(before.getLinesCount() > 0 && before.getLinesCount() <= 5, before.toString());
        assertTrue(before.getLines(0).contains("heartbeat seq="), before.toString());

        HttpResponse<Stream<String>> m = http.send(request("POST", "/v1/instances/web/migrate",
                "{\"to\":\"h2\",\"downtime\":\"50ms\"}"), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, m.statusCode());
        assertEquals("application/x-ndjson", m.headers().firstValue("content-type").orElse(""));
        List<String> lines = new ArrayList<>();
        m.body().forEach(lines::add);
        assertTrue(lines.size() >= 2, "progress lines, then the summary: " + lines);
        for (String p : lines.subList(0, lines.size() - 1)) {
            MigrationProgress progress = parse(p, MigrationProgress.newBuilder());
            assertFalse(progress.getPhase().isEmpty(), p);
        }
        MigrationDone done = parse(lines.get(lines.size() - 1), MigrationDone.newBuilder());
        assertTrue(done.getOk(), done.getError());
        assertEquals("h2", done.getDestinationHost());

        RegisteredInstance after = ok(200, send("GET", "/v1/instances/web", null), RegisteredInstance.newBuilder());
        assertEquals("h2", after.getHost());
        assertEquals(2, after.getEpoch());
        assertEquals("RUNNING", after.getState());
        assertTrue(logs("web").getLinesCount() > 0, "the console is read from h2 now");
    }

    @Test
    void answersTheOrchestratorsRefusalsWithStatusCodes() throws Exception {
        ok(201, send("POST", "/v1/instances", "{\"id\":\"db\",\"guest\":\"heartbeat\",\"memory\":\"128M\",\"host\":\"h1\"}"),
                LaunchResult.newBuilder());
        assertError(409, "instance db already exists",
                send("POST", "/v1/instances", "{\"id\":\"db\",\"guest\":\"heartbeat\",\"host\":\"h2\"}"));
        assertError(422, "no host has 64 GiB free",
                send("POST", "/v1/instances", "{\"id\":\"huge\",\"guest\":\"heartbeat\",\"memory\":\"64G\"}"));
        assertError(422, "unknown host h9", send("POST", "/v1/instances", "{\"guest\":\"heartbeat\",\"host\":\"h9\"}"));
        assertError(422, "unknown guest 'nosuch'", send("POST", "/v1/instances", "{\"guest\":\"nosuch\"}"));
        assertError(400, "memory: 'big'", send("POST", "/v1/instances", "{\"guest\":\"heartbeat\",\"memory\":\"big\"}"));
        assertError(400, "not a valid LaunchBody", send("POST", "/v1/instances", "{\"guest\":"));
        assertError(409, "already runs on h1", send("POST", "/v1/instances/db/migrate", "{\"to\":\"h1\"}"));
        assertError(404, "unknown instance nosuch", send("POST", "/v1/instances/nosuch/migrate", "{}"));
        assertError(404, "unknown instance nosuch", send("GET", "/v1/instances/nosuch", null));
        assertError(404, "unknown instance nosuch", send("GET", "/v1/instances/nosuch/logs", null));
        assertError(404, "unknown host h9", send("POST", "/v1/hosts/h9/evacuate", "{}"));
        RegisteredInstance db = ok(200, send("GET", "/v1/instances/db", null), RegisteredInstance.newBuilder());
        assertEquals("h1", db.getHost(), "refusals changed nothing");
        assertEquals(1, db.getEpoch());
    }

    @Test
    void deploysFromTheStorageNodeWithProgressLinesUntilTheDiskIsLocal() throws Exception {
        assertError(404, "image 'nosuch.raw' not found on storage node s1; it serves os.raw (32 MiB)",
                send("POST", "/v1/deployments", "{\"image\":\"nosuch.raw\"}"));
        HttpResponse<Stream<String>> r = http.send(request("POST", "/v1/deployments", """
                {"image":"os.raw","id":"dep","memory":"128M","host":"h1","args":{"boot_mib":"4"}}"""),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertEquals("application/x-ndjson", r.headers().firstValue("content-type").orElse(""));
        List<String> lines = new ArrayList<>();
        r.body().forEach(lines::add);
        assertTrue(lines.size() >= 3, "the launch, progress, the summary: " + lines);
        LaunchResult launched = parse(lines.get(0), LaunchResult.newBuilder());
        assertTrue(launched.getOk(), launched.getError());
        assertEquals("h1", launched.getHost());
        for (String p : lines.subList(1, lines.size() - 1)) {
            InstanceInfo i = parse(p, InstanceInfo.newBuilder());
            assertEquals("dep", i.getInstanceId(), p);
            assertEquals(32L << 20, i.getTotalBytes(), p);
        }
        DeploymentDone done = parse(lines.get(lines.size() - 1), DeploymentDone.newBuilder());
        assertTrue(done.getOk(), done.toString());
        assertEquals("LOCAL", done.getState());
        assertTrue(done.getDiskPath().endsWith("dep.img") && done.getDevirtMs() >= 0, done.toString());
        assertTrue(logs("dep").getLinesList().stream().anyMatch(l -> l.contains("reader")), "the guest runs");
    }

    @Test
    void evacuatesAHost() throws Exception {
        ok(201, send("POST", "/v1/instances", "{\"id\":\"e1\",\"guest\":\"heartbeat\",\"memory\":\"64M\",\"host\":\"h2\"}"),
                LaunchResult.newBuilder());
        EvacuationReport r = ok(200, send("POST", "/v1/hosts/h2/evacuate", "{\"parallel\":2}"), EvacuationReport.newBuilder());
        assertTrue(r.getOk(), r.toString());
        assertTrue(r.getInstancesList().stream().anyMatch(i -> i.getInstanceId().equals("e1") && i.getResult().getOk()),
                r.toString());
        assertTrue(status().getInstancesList().stream().noneMatch(i -> i.getHost().equals("h2")), "nothing runs on h2");
    }
}
