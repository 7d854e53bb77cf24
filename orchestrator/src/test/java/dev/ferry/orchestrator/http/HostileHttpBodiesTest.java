package dev.ferry.orchestrator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import com.typesafe.config.ConfigFactory;
import dev.ferry.protocol.v1.ApiError;
import dev.ferry.protocol.v1.RegisteredInstance;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Hostile request bodies and paths against the real routes (served on a free port of 127.0.0.1 over a cluster in
 * memory): random and mutated JSON, deep nesting, huge numbers, wrong types, unknown fields and invalid ids are
 * answered with a 4xx and an {@code ApiError} saying what was wrong, never a 5xx.
 */
class HostileHttpBodiesTest {
    private static final Set<Integer> ANSWERS = Set.of(200, 201, 400, 404, 405, 409, 413, 422);
    private static final List<String> POSTS = List.of("/v1/instances", "/v1/instances/web/migrate",
            "/v1/instances/web/restore", "/v1/hosts/h1/evacuate", "/v1/instances/web/checkpoint");
    private static final List<String> VALID = List.of(
            "{\"id\":\"db\",\"guest\":\"heartbeat\",\"memory\":\"512M\",\"host\":\"h1\",\"args\":{\"interval_ms\":\"100\"}}",
            "{\"to\":\"h2\",\"downtime\":\"40ms\"}",
            "{\"from\":\"/checkpoints/web/e1.ferry\",\"host\":\"h2\"}",
            "{\"parallel\":3,\"downtime\":\"0.2s\"}");
    private static ActorSystem<Void> system;
    private static FakeControlPlane cluster;
    private static HttpServer server;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeContainer
    static void start() throws Exception {
        system = ActorSystem.create(Behaviors.empty(), "hostile-http",
                ConfigFactory.parseString("pekko.loglevel = ERROR").withFallback(ConfigFactory.defaultReference()));
        cluster = new FakeControlPlane();
        server = HttpServer.start(system, "127.0.0.1", 0, cluster);
    }

    @AfterContainer
    static void stop() throws Exception {
        try {
            server.close();
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get();
        }
    }

    private static void webRuns() {
        cluster.instances.put("web", RegisteredInstance.newBuilder().setInstanceId("web").setGuest("heartbeat")
                .setMemoryBytes(256L << 20).setHost("h1").setEpoch(1).setState("RUNNING")
                .setLastCheckpoint("/checkpoints/web/e1.ferry").build());
        cluster.instances.keySet().removeIf(id -> !id.equals("web"));
    }

    private static HttpResponse<String> send(String method, String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(20))
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A success, or a 4xx whose body is an ApiError with its status and a message; never a 5xx. */
    private static ApiError assertAnsweredWithoutServerError(HttpResponse<String> r, String what) throws Exception {
        assertTrue(ANSWERS.contains(r.statusCode()), what + " -> " + r.statusCode() + " " + r.body());
        if (r.statusCode() < 400) {
            return null;
        }
        ApiError.Builder e = ApiError.newBuilder();
        JsonFormat.parser().merge(r.body(), e);
        assertEquals(r.statusCode(), e.getStatus(), r.body());
        assertFalse(e.getError().isBlank(), r.body());
        return e.build();
    }

    @Property(tries = 100)
    void randomBodiesAreAnsweredWithoutAServerError(@ForAll @IntRange(min = 0, max = 4) int route,
                                                    @ForAll("junk") String body) throws Exception {
        webRuns();
        assertAnsweredWithoutServerError(send("POST", POSTS.get(route), body), POSTS.get(route) + " " + body);
    }

    @Provide
    Arbitrary<String> junk() {
        Arbitrary<String> json = Arbitraries.strings().withChars("{}[]\":,0123456789.-+eE truefalsn\\u").ofMaxLength(80);
        return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(120), json);
    }

    @Property(tries = 120)
    void mutatedValidBodiesAreAnsweredWithoutAServerError(@ForAll @IntRange(min = 0, max = 3) int which,
                                                          @ForAll("mutations") List<Integer> mutation) throws Exception {
        webRuns();
        String body = mutate(VALID.get(which), mutation);
        assertAnsweredWithoutServerError(send("POST", POSTS.get(which), body), POSTS.get(which) + " " + body);
    }

    @Provide
    Arbitrary<List<Integer>> mutations() {
        return Arbitraries.integers().between(0, Integer.MAX_VALUE).list().ofMinSize(1).ofMaxSize(6);
    }

    private static final String[] INSERTS = {"{", "}", "[", "]", "\"", ":", ",", "\\", "\\u", "null", "true", "-",
        "1e400", "99999999999999999999999", "-1", "0.5", "\"x\"", "[1,2]", "{\"a\":1}", "\u0000", "\uD800", "é"};

    /** Applies edits drawn from {@code m}: delete, insert a JSON token, duplicate or swap a span. */
    private static String mutate(String valid, List<Integer> m) {
        StringBuilder s = new StringBuilder(valid);
        for (int x : m) {
            int at = s.length() == 0 ? 0 : x % (s.length() + 1);
            switch ((x >>> 24) % 4) {
                case 0 -> {
                    if (at < s.length()) {
                        s.deleteCharAt(at);
                    }
                }
                case 1 -> s.insert(at, INSERTS[(x >>> 8) % INSERTS.length]);
                case 2 -> {
                    int end = Math.min(s.length(), at + (x >>> 16) % 12);
                    s.insert(at, s.substring(at, end));
                }
                default -> {
                    int end = Math.min(s.length(), at + 1 + (x >>> 16) % 8);
                    s.replace(at, end, INSERTS[(x >>> 8) % INSERTS.length]);
                }
            }
        }
        return s.toString();
    }

    @Property(tries = 40)
    void deeplyNestedJsonIsRefusedWith400Or413(@ForAll @IntRange(min = 1, max = 40_000) int depth,
                                               @ForAll @IntRange(min = 0, max = 3) int where,
                                               @ForAll boolean objects) throws Exception {
        String open = objects ? "{\"a\":" : "[";
        String close = objects ? "}" : "]";
        String nested = open.repeat(depth) + "1" + close.repeat(depth);
        String body = switch (where) {
            case 0 -> "{\"guest\":" + nested + "}";
            case 1 -> "{\"args\":{\"k\":" + nested + "}}";
            case 2 -> nested;
            default -> "{\"unknown\":" + nested + "}";
        };
        ApiError e = assertAnsweredWithoutServerError(send("POST", "/v1/instances", body), "nested " + depth);
        // protobuf's JSON reads an array of one string as that string: [["heartbeat"]] may name a guest
        assertTrue(e != null && (e.getStatus() == 400 || e.getStatus() == 413 || e.getStatus() == 422 && !objects),
                String.valueOf(e));
    }

    @Property(tries = 80)
    void wrongTypesAndHugeNumbersAreRefusedWith400NamingTheBody(@ForAll("wrongValues") String field) throws Exception {
        webRuns();
        String[] routeAndBody = field.split("\n", 2);
        ApiError e = assertAnsweredWithoutServerError(send("POST", routeAndBody[0], routeAndBody[1]), field);
        assertTrue(e != null && e.getStatus() == 400, field + " -> " + e);
    }

    @Provide
    Arbitrary<String> wrongValues() {
        Arbitrary<String> bad = Arbitraries.of("1e400", "-1", "4294967296", "99999999999999999999", "1.5", "true",
                "[]", "{}", "\"many\"", "\"-3\"", "\"0x10\"", "\"NaN\"", "\"\"", "-0.5");
        Arbitrary<String> evacuate = bad.map(v -> "/v1/hosts/h1/evacuate\n{\"parallel\":" + v + "}");
        Arbitrary<String> badText = Arbitraries.of("1", "true", "[]", "{}", "1e400", "\"soon\"", "\"-5ms\"", "\"0s\"",
                "\"1e400ms\"", "\"NaNs\"", "\"Infinityms\"", "\"ms\"", "\"5\"", "\"0.0001us\"");
        Arbitrary<String> migrate = badText.map(v -> "/v1/instances/web/migrate\n{\"downtime\":" + v + "}");
        Arbitrary<String> badMemory = Arbitraries.of("1", "true", "[]", "\"0\"", "\"-1M\"", "\"9999999999T\"",
                "\"1.5G\"", "\"lots\"", "\"9223372036854775807K\"", "\"\\u0000\"");
        Arbitrary<String> launch = badMemory.map(v -> "/v1/instances\n{\"guest\":\"heartbeat\",\"memory\":" + v + "}");
        Arbitrary<String> badArgs = Arbitraries.of("[]", "1", "{\"k\":{}}", "{\"k\":[]}", "{\"k\":null}", "\"x\"");
        Arbitrary<String> args = badArgs.map(v -> "/v1/instances\n{\"guest\":\"heartbeat\",\"args\":" + v + "}");
        Arbitrary<String> unknown = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(12)
                .filter(f -> !Set.of("id", "guest", "memory", "host", "args").contains(f))
                .map(f -> "/v1/instances\n{\"guest\":\"heartbeat\",\"" + f + "\":1}");
        return Arbitraries.oneOf(evacuate, migrate, launch, args, unknown);
    }

    @Property(tries = 100)
    void invalidIdsInPathsAndBodiesAreRefused(@ForAll("ids") String id, @ForAll @IntRange(min = 0, max = 4) int op)
            throws Exception {
        webRuns();
        String segment = URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
        HttpResponse<String> r = switch (op) {
            case 0 -> send("GET", "/v1/instances/" + segment, "");
            case 1 -> send("POST", "/v1/instances/" + segment + "/migrate", "{}");
            case 2 -> send("GET", "/v1/instances/" + segment + "/logs?lines=" + segment, "");
            case 3 -> send("POST", "/v1/hosts/" + segment + "/evacuate", "{}");
            default -> send("POST", "/v1/instances", "{\"guest\":\"heartbeat\",\"id\":"
                    + JsonFormat.printer().print(com.google.protobuf.StringValue.of(id)) + "}");
        };
        ApiError e = assertAnsweredWithoutServerError(r, op + " " + id);
        if (!id.isEmpty() && !HttpApi.ID.matcher(id).matches()) {
            assertTrue(e != null, "invalid id '" + id + "' accepted by " + op);
        }
    }

    @Provide
    Arbitrary<String> ids() {
        return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(80),
                Arbitraries.strings().withChars("a/.%-_\\ \u0000é").ofMinLength(1).ofMaxLength(70),
                Arbitraries.of("..", ".", "-x", "a".repeat(64), "a".repeat(63), "web\n", "web%2F..", "%00"));
    }

    @Example
    void queryParametersOutOfRangeAreRefusedWith400() throws Exception {
        webRuns();
        for (String lines : List.of("0", "-1", "10001", "99999999999", "1e3", "%00", "")) {
            HttpResponse<String> r = send("GET", "/v1/instances/web/logs?lines=" + lines, "");
            ApiError e = assertAnsweredWithoutServerError(r, lines);
            assertTrue(e != null && e.getStatus() == 400, lines + " -> " + r.body());
        }
    }
}
