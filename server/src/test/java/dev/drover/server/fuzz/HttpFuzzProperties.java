package dev.drover.server.fuzz;

import static dev.drover.server.fuzz.FuzzSupport.Expect.EITHER;
import static dev.drover.server.fuzz.FuzzSupport.Expect.INVALID;
import static dev.drover.server.fuzz.FuzzSupport.Expect.VALID;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drover.server.TestServer;
import dev.drover.server.fuzz.FuzzSupport.Expect;
import dev.drover.server.fuzz.FuzzSupport.Gen;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes the HTTP API of a real server (issue 6, "Bad input"): whatever the method, path, query,
 * body and token, the answer is never a 5xx, every error is JSON with a message, a bad token is a
 * 401, and a request the contract calls invalid creates no run.
 */
class HttpFuzzProperties {
    // One workflow per property: jqwik's bounded shrinking may leave one try running in the background
    // when it times out, and that try must not disturb the run counts of the next property.
    static final String WF = "fuzz-http-any";
    static final String WF_TRIGGER = "fuzz-http-trigger";
    static final String WF_STRICT = "fuzz-http-strict";
    static final String WF_BIG = "fuzz-http-big";
    static final String WF_CRON = "fuzz-http-cron";
    static final String WF_SCHED = "fuzz-http-sched";
    static final String WF_REPLAY = "fuzz-http-replay";
    static final String RL_PREFIX = "fuzz-http-rl-";
    static final String RL_KEEP = RL_PREFIX + "keeper";
    static final ObjectMapper JSON = new ObjectMapper();
    static ManagedChannel channel;
    static HttpClient http;
    static String finishedRunId;
    static String cronKeeperId;
    static String scheduleKeeperId;
    static String workerId;
    static List<String> replayRunIds = new ArrayList<>();

    @BeforeContainer
    static void setUp() throws Exception {
        FuzzSupport.server();
        channel = FuzzSupport.channel();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        for (String wf : List.of(WF, WF_TRIGGER, WF_STRICT, WF_BIG, WF_CRON, WF_SCHED, WF_REPLAY)) FuzzSupport.registerSingleStep(channel, wf);
        // A finished run, so that /await on a real id returns at once whatever timeoutMs says.
        HttpResponse<String> r = send("POST", "/api/v1/runs", ("{\"workflow\":\"" + WF + "\"}").getBytes(StandardCharsets.UTF_8), Token.VALID);
        finishedRunId = JSON.readTree(r.body()).get("runId").asText();
        send("POST", "/api/v1/runs/" + finishedRunId + "/cancel", new byte[0], Token.VALID);
        for (int i = 0; i < 3; i++) {
            r = send("POST", "/api/v1/runs", ("{\"workflow\":\"" + WF_REPLAY + "\"}").getBytes(StandardCharsets.UTF_8), Token.VALID);
            String id = JSON.readTree(r.body()).get("runId").asText();
            send("POST", "/api/v1/runs/" + id + "/cancel", new byte[0], Token.VALID);
            replayRunIds.add(id);
        }
        r = send("POST", "/api/v1/crons", ("{\"workflow\":\"" + WF_CRON + "\",\"name\":\"keeper\",\"expression\":\"0 0 1 1 *\",\"paused\":true}")
                .getBytes(StandardCharsets.UTF_8), Token.VALID);
        cronKeeperId = JSON.readTree(r.body()).get("id").asText();
        r = send("POST", "/api/v1/schedules", ("{\"workflow\":\"" + WF_SCHED + "\",\"delayMs\":86400000}").getBytes(StandardCharsets.UTF_8),
                Token.VALID);
        scheduleKeeperId = JSON.readTree(r.body()).get("id").asText();
        putKeeper();
        workerId = FuzzSupport.workers(channel).register(dev.drover.proto.v1.RegisterRequest.newBuilder().setWorkerName("fuzz-http-worker")
                .setSlots(1).addWorkflows(dev.drover.proto.v1.WorkflowDefinition.newBuilder().setName("fuzz-http-worker-wf").setVersion("1")
                        .addSteps(dev.drover.proto.v1.StepDefinition.newBuilder().setName("s"))).build()).getWorkerId();
    }

    @AfterContainer
    static void tearDown() {
        if (channel == null) return;
        for (String wf : List.of(WF, WF_SCHED, WF_REPLAY, WF_CRON)) FuzzSupport.cancelUnfinished(channel, wf);
        channel.shutdownNow();
    }

    enum Token {
        VALID, NONE, WRONG, NO_BEARER, LOWERCASE_BEARER, TRAILING_SPACE, EMPTY;

        String header() {
            return switch (this) {
                case VALID -> "Bearer " + TestServer.TOKEN;
                case NONE -> null;
                case WRONG -> "Bearer wrong-token-0123456789";
                case NO_BEARER -> TestServer.TOKEN;
                case LOWERCASE_BEARER -> "bearer " + TestServer.TOKEN;
                case TRAILING_SPACE -> "Bearer " + TestServer.TOKEN + "x";
                case EMPTY -> "Bearer ";
            };
        }
    }

    record Req(String method, String path, Gen<byte[]> body, Token token) {
        @Override
        public String toString() {
            return method + " " + path + " token=" + token + " body=" + body;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Properties
    // ------------------------------------------------------------------------------------------

    @Property(tries = 300, shrinking = ShrinkingMode.BOUNDED)
    void any_request_is_answered_without_5xx_and_errors_explain_themselves(@ForAll("requests") Req req) throws Exception {
        int before = FuzzSupport.runCount(channel, WF);
        Counts objects = Counts.take();
        HttpResponse<String> resp = sendComplete(req);
        String ctx = req + "\n  -> " + resp.statusCode() + " " + abbreviate(resp.body());
        checkResponseShape(resp, ctx);
        String decodedPath = URI.create(req.path()).getPath();
        if (decodedPath.startsWith("/api/") && req.token() != Token.VALID) {
            assertThat(resp.statusCode()).as("a bad token on /api must be 401: %s", ctx).isEqualTo(401);
        }
        int delta = FuzzSupport.runCount(channel, WF) - before;
        // A 201 from /api/v1/events stores an event; no workflow of this test listens to it.
        // The bodies of the other resources name other workflows: a trigger with one of those creates no run of WF.
        boolean runCreated = resp.statusCode() == 201 && decodedPath.startsWith("/api/v1/runs") && namesWorkflow(req.body().value(), WF);
        assertThat(delta).as("runs created by %s", ctx).isEqualTo(runCreated ? 1 : 0);
        checkObjects(req, resp, objects, ctx);
    }

    @Property(tries = 300, shrinking = ShrinkingMode.BOUNDED)
    void trigger_bodies_are_validated_and_invalid_ones_create_nothing(@ForAll("triggerBodies") Gen<byte[]> body) throws Exception {
        checkTrigger(WF_TRIGGER, body);
    }

    static boolean namesWorkflow(byte[] body, String wf) {
        try {
            return wf.equals(JSON.readTree(body).path("workflow").asText());
        } catch (Exception e) {
            return true;
        }
    }

    static void checkTrigger(String wf, Gen<byte[]> body) throws Exception {
        int before = FuzzSupport.runCount(channel, wf);
        HttpResponse<String> resp = send("POST", "/api/v1/runs", body.value(), Token.VALID);
        String ctx = "POST /api/v1/runs body=" + body + "\n  -> " + resp.statusCode() + " " + abbreviate(resp.body());
        checkResponseShape(resp, ctx);
        int delta = FuzzSupport.runCount(channel, wf) - before;
        boolean ok = resp.statusCode() / 100 == 2;
        if (body.expect() == INVALID) assertThat(ok).as("an invalid trigger must be refused: %s", ctx).isFalse();
        if (body.expect() == VALID) assertThat(ok).as("a valid trigger must be accepted: %s", ctx).isTrue();
        if (ok) {
            JsonNode json = JSON.readTree(resp.body());
            assertThat(json.path("runId").asText()).as(ctx).isNotEmpty();
            boolean created = json.path("created").asBoolean();
            assertThat(resp.statusCode()).as(ctx).isEqualTo(created ? 201 : 200);
            assertThat(delta).as("runs created by %s", ctx).isEqualTo(created ? 1 : 0);
            if (created) checkInputRoundTrip(body.value(), json.path("runId").asText(), ctx);
        } else {
            assertThat(delta).as("a refused trigger created runs: %s", ctx).isZero();
        }
    }

    @Property(tries = 80, shrinking = ShrinkingMode.BOUNDED)
    void wrongly_typed_trigger_fields_are_refused_not_coerced(@ForAll("strictTriggerBodies") Gen<byte[]> body) throws Exception {
        checkTrigger(WF_STRICT, body);
    }

    @Provide
    Arbitrary<Gen<byte[]>> strictTriggerBodies() {
        return triggerObject(WF_STRICT, true).map(g -> bytes(g.value(), g.expect(), g.desc()));
    }

    /**
     * The JDK server answers "GET // HTTP/1.1" itself (it cannot parse the URI), with a short HTML
     * body, before Drover's handler runs; there is no hook to make that JSON. What we can hold it
     * to: a 4xx with a message, never a 5xx.
     */
    @Example
    void a_path_starting_with_two_slashes_gets_a_4xx_with_a_message() throws Exception {
        for (String path : List.of("//", "//api//v1//runs", "//x")) {
            HttpResponse<String> resp = send("GET", path, new byte[0], Token.VALID);
            String ctx = "GET " + path + " -> " + resp.statusCode() + " " + abbreviate(resp.body());
            assertThat(resp.statusCode()).as(ctx).isBetween(400, 499);
            assertThat(resp.body()).as(ctx).isNotBlank();
        }
    }

    @Example
    void a_body_over_16_mib_is_413_and_creates_nothing() throws Exception {
        int before = FuzzSupport.runCount(channel, WF_BIG);
        byte[] body = ("{\"workflow\":\"" + WF_BIG + "\",\"input\":\"" + "x".repeat(16 * 1024 * 1024 + 16) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> resp;
        try {
            resp = send("POST", "/api/v1/runs", body, Token.VALID);
        } catch (java.io.IOException e) {
            throw new AssertionError("POST of a " + body.length + "-byte body: the connection failed instead of a 413: " + e, e);
        }
        String ctx = "POST /api/v1/runs with a " + body.length + "-byte body -> " + resp.statusCode() + " " + abbreviate(resp.body());
        assertThat(resp.statusCode()).as(ctx).isEqualTo(413);
        checkResponseShape(resp, ctx);
        assertThat(FuzzSupport.runCount(channel, WF_BIG)).as(ctx).isEqualTo(before);
    }

    /**
     * Bodies beyond what a route reads (1 MiB for rate limits and ignored bodies, 16 MiB elsewhere) still get a
     * complete answer: the connection is not reset under the reply, nothing is created.
     */
    @Example
    void oversized_bodies_on_every_route_get_a_complete_answer() throws Exception {
        for (int size : List.of(2 * 1024 * 1024, 17 * 1024 * 1024)) {
            byte[] body = ("{\"capacity\":5,\"window\":\"minute\",\"workflow\":\"" + WF_SCHED + "\",\"delayMs\":1000,\"pad\":\""
                    + "x".repeat(size) + "\"}").getBytes(StandardCharsets.UTF_8);
            for (String[] mp : List.of(new String[] {"PUT", "/api/v1/rate-limits/" + RL_PREFIX + "big"},
                    new String[] {"POST", "/api/v1/rate-limits/" + RL_KEEP + "/pause"}, new String[] {"POST", "/api/v1/workers/" + workerId + "/resume"},
                    new String[] {"POST", "/api/v1/crons/" + cronKeeperId + "/pause"}, new String[] {"POST", "/api/v1/schedules"},
                    new String[] {"POST", "/api/v1/runs/replay"}, new String[] {"DELETE", "/api/v1/crons/" + UUID.randomUUID()})) {
                Req req = new Req(mp[0], mp[1], new Gen<>(body, EITHER, size + " bytes"), Token.VALID);
                Counts before = Counts.take();
                HttpResponse<String> resp = sendComplete(req);
                String ctx = req + " -> " + resp.statusCode() + " " + abbreviate(resp.body());
                checkResponseShape(resp, ctx);
                checkObjects(req, resp, before, ctx);
            }
        }
    }

    /** Found by the fuzzer: an instant beyond what a database timestamp holds overflowed in the store (500). */
    @Example
    void a_replay_filter_beyond_the_year_9999_is_a_400_naming_the_field() throws Exception {
        for (String t : List.of("+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "+10000-01-01T00:00:00Z")) {
            Req req = new Req("POST", "/api/v1/runs/replay", bytes("{\"workflow\":\"" + WF_REPLAY + "\",\"createdAfter\":\"" + t + "\"}", INVALID, t),
                    Token.VALID);
            HttpResponse<String> resp = sendComplete(req);
            String ctx = req + " -> " + resp.statusCode() + " " + abbreviate(resp.body());
            assertThat(resp.statusCode()).as(ctx).isEqualTo(400);
            assertThat(resp.body()).as(ctx).contains("created_after");
            assertThat(FuzzSupport.cancelUnfinished(channel, WF_REPLAY)).as(ctx).isZero();
        }
    }

    /** The run keeps the input it was given (numbers compared by value: the store may renormalize them). */
    static void checkInputRoundTrip(byte[] sentBody, String runId, String ctx) throws Exception {
        JsonNode sent;
        try {
            sent = JSON.readTree(sentBody);
        } catch (Exception e) {
            return; // accepted although we cannot parse it: the shape checks above decide about that
        }
        if (sent == null || !sent.isObject()) return;
        JsonNode expected = sent.has("input") ? sent.get("input") : JSON.createObjectNode();
        HttpResponse<String> got = send("GET", "/api/v1/runs/" + runId, new byte[0], Token.VALID);
        assertThat(got.statusCode()).as("GET of the created run: %s", ctx).isEqualTo(200);
        JsonNode stored = JSON.readTree(got.body()).get("input");
        java.util.Comparator<JsonNode> byValue = (a, b) -> {
            if (a.equals(b)) return 0;
            if (a.isNumber() && b.isNumber()) return a.doubleValue() == b.doubleValue() ? 0 : 1;
            return 1;
        };
        assertThat(expected.equals(byValue, stored))
                .as("the run's input changed: sent %s, stored %s: %s", abbreviate(expected.toString()), abbreviate(String.valueOf(stored)), ctx)
                .isTrue();
    }

    // ------------------------------------------------------------------------------------------
    // Checks and transport
    // ------------------------------------------------------------------------------------------

    static void checkResponseShape(HttpResponse<String> resp, String ctx) {
        assertThat(resp.statusCode()).as("never a 5xx: %s", ctx).isLessThan(500);
        if (resp.statusCode() / 100 != 2) {
            JsonNode json;
            try {
                json = JSON.readTree(resp.body());
            } catch (Exception e) {
                throw new AssertionError("an error response is not JSON: " + ctx, e);
            }
            assertThat(json != null && json.isObject() && json.path("error").isTextual() && !json.path("error").asText().isBlank())
                    .as("an error response carries a non-empty \"error\": %s", ctx).isTrue();
        }
    }

    /** The response to {@code req}; a connection that fails instead (e.g. reset under the reply) fails the test. */
    static HttpResponse<String> sendComplete(Req req) throws Exception {
        try {
            return send(req.method(), req.path(), req.body().value(), req.token());
        } catch (java.io.IOException e) {
            throw new AssertionError("no complete response (" + e + ") to " + req, e);
        }
    }

    static HttpResponse<String> send(String method, String path, byte[] body, Token token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + FuzzSupport.server().httpPort() + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", "application/json");
        if (token.header() != null) b.header("Authorization", token.header());
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** At most 300 characters, with control and non-ASCII characters escaped so that reports stay readable. */
    static String abbreviate(String s) {
        if (s == null) return "null";
        String cut = s.length() <= 300 ? s : s.substring(0, 300);
        StringBuilder sb = new StringBuilder();
        for (char c : cut.toCharArray()) {
            if (c >= 0x20 && c < 0x7f) sb.append(c);
            else sb.append(String.format("\\u%04x", (int) c));
        }
        return s.length() <= 300 ? sb.toString() : sb + "...(" + s.length() + " chars)";
    }

    // ------------------------------------------------------------------------------------------
    // Generators
    // ------------------------------------------------------------------------------------------

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Provide
    Arbitrary<Req> requests() {
        Arbitrary<String> method = Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH");
        Arbitrary<Token> token = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.just(Token.VALID)), Tuple.of(4, Arbitraries.of(Token.class)));
        // A path starting with "//" never reaches Drover's handler (see the example below), so it is kept out of here.
        Arbitrary<String> path = Combinators.combine(paths().filter(p -> !p.startsWith("//")), queries()).as((p, q) -> p + q);
        return Combinators.combine(method, path, bodies(), token).as(Req::new);
    }

    @Provide
    Arbitrary<Gen<byte[]>> triggerBodies() {
        return Arbitraries.frequencyOf(
                Tuple.of(8, triggerObject(WF_TRIGGER, false).map(g -> bytes(g.value(), g.expect(), g.desc()))),
                Tuple.of(2, truncated(WF_TRIGGER)),
                Tuple.of(1, junkBodies(WF_TRIGGER)));
    }

    Arbitrary<String> runIds() {
        return Arbitraries.oneOf(
                Arbitraries.create(() -> UUID.randomUUID().toString()),
                Arbitraries.create(() -> finishedRunId),
                Arbitraries.of("not-a-uuid", "00000000-0000-0000-0000-000000000000", "1-1-1-1-1", "ffffffff-ffff-ffff-ffff-ffffffffffff",
                        "01a21300-f880-7802-bb2f-250ed55b113", "01a21300-f880-7802-bb2f-250ed55b11366", "%20", "..", "%2F"),
                FuzzSupport.nastyString().filter(s -> !s.isEmpty()).map(HttpFuzzProperties::enc),
                Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(2000));
    }

    Arbitrary<String> paths() {
        return Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just("/api/v1/runs")),
                Tuple.of(4, runIds().map(id -> "/api/v1/runs/" + id)),
                Tuple.of(3, runIds().map(id -> "/api/v1/runs/" + id + "/cancel")),
                Tuple.of(3, runIds().map(id -> "/api/v1/runs/" + id + "/await")),
                Tuple.of(1, runIds().map(id -> "/api/v1/runs/" + id + "/cancel/more")),
                Tuple.of(2, Arbitraries.of("/api/v1/events", "/api/v1/events/bulk", "/api/v1/events/")),
                Tuple.of(2, Combinators.combine(runIds(), Arbitraries.of("", "/replay", "/replay/x"))
                        .as((id, action) -> "/api/v1/events/" + id + action)),
                Tuple.of(2, Arbitraries.of("/api/v1/crons", "/api/v1/schedules", "/api/v1/rate-limits", "/api/v1/workers", "/api/v1/runs/replay",
                        "/api/v1/crons/", "/api/v1/rate-limits/", "/api/v1/workers//pause", "/api/v1/rate-limits//pause")),
                Tuple.of(3, Combinators.combine(Arbitraries.of("crons", "schedules"), Arbitraries.oneOf(cronIds(), scheduleIds()),
                        Arbitraries.of("", "/pause", "/resume", "/reschedule", "/x", "/pause/x")).as((r, id, a) -> "/api/v1/" + r + "/" + id + a)),
                Tuple.of(2, Combinators.combine(limitNames(), Arbitraries.of("", "/pause", "/x", "/pause/x"))
                        .as((n, a) -> "/api/v1/rate-limits/" + n + a)),
                Tuple.of(2, Combinators.combine(workerIds(), Arbitraries.of("", "/pause", "/resume", "/drain", "/x", "/drain/x"))
                        .as((id, a) -> "/api/v1/workers/" + id + a)),
                Tuple.of(1, Combinators.combine(Arbitraries.oneOf(runIds(), Arbitraries.of(replayRunIds)), Arbitraries.of("/replay", "/replay/x"))
                        .as((id, a) -> "/api/v1/runs/" + id + a)),
                Tuple.of(2, Arbitraries.of("/", "/api", "/api/", "/api/v1", "/api/v2/runs", "/api/v1/run", "/api/v1/runs/",
                        "//api//v1//runs", "/api/v1/runs//cancel", "/api/v1/runs///", "/healthz", "/readyz", "/healthz/x",
                        "/API/V1/RUNS", "/api/v1/runs/%2e%2e/cancel", "/api/v1/runs/%00", "/favicon.ico")),
                Tuple.of(2, FuzzSupport.nastyString().list().ofMaxSize(5)
                        .map(segs -> "/" + String.join("/", segs.stream().map(HttpFuzzProperties::enc).toList()))),
                Tuple.of(1, FuzzSupport.nastyString().list().ofMaxSize(4)
                        .map(segs -> "/api/v1/" + String.join("/", segs.stream().map(HttpFuzzProperties::enc).toList()))));
    }

    Arbitrary<String> queries() {
        Arbitrary<String> numberish = Arbitraries.oneOf(
                Arbitraries.of("-5", "0", "1", "50", "1000", "1001", "5000", "abc", "", "1e3", "0x10", "+7", "-0", " 5",
                        "99999999999", "-99999999999", "2147483647", "-2147483648", "9223372036854775808", "NaN", "1.5"),
                Arbitraries.integers().map(String::valueOf),
                Arbitraries.longs().map(String::valueOf));
        Arbitrary<String> statusValue = Arbitraries.oneOf(
                Arbitraries.of("queued", "running", "succeeded", "failed", "cancelled", "bogus", "", "QUEUED", "null"),
                FuzzSupport.nastyString());
        Arbitrary<String> beforeValue = Arbitraries.oneOf(runIds(), Arbitraries.of("not-a-uuid", ""));
        Arbitrary<String> kv = Arbitraries.oneOf(
                numberish.map(v -> "limit=" + enc(v)),
                numberish.map(v -> "timeoutMs=" + enc(v)),
                numberish.map(v -> "waitMs=" + enc(v)),
                numberish.map(v -> "top=" + enc(v)),
                statusValue.map(v -> "status=" + enc(v)),
                beforeValue.map(v -> "before=" + v),
                Arbitraries.oneOf(Arbitraries.just(WF), FuzzSupport.nastyString()).map(v -> "workflow=" + enc(v)),
                Combinators.combine(FuzzSupport.nastyString(), FuzzSupport.nastyString()).as((k, v) -> enc(k) + "=" + enc(v)),
                Arbitraries.of("=", "&", "limit", "limit=", "=5", "a=b=c", "limit=1&limit=2"));
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just("")),
                Tuple.of(4, kv.list().ofMinSize(1).ofMaxSize(4).map(l -> "?" + String.join("&", l))));
    }

    static Gen<byte[]> bytes(String text, Expect e, String desc) {
        return new Gen<>(text.getBytes(StandardCharsets.UTF_8), e, desc);
    }

    Arbitrary<Gen<byte[]>> bodies() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(new Gen<>(new byte[0], INVALID, "<empty>"))),
                Tuple.of(6, triggerObject(WF, false).map(g -> bytes(g.value(), g.expect(), g.desc()))),
                Tuple.of(2, truncated(WF)),
                Tuple.of(2, junkBodies(WF)),
                Tuple.of(3, adminRequests().map(Req::body)));
    }

    Arbitrary<Gen<byte[]>> truncated(String wf) {
        return truncated(triggerObject(wf, false));
    }

    static Arbitrary<Gen<byte[]>> truncated(Arbitrary<Gen<String>> objects) {
        return objects.flatMap(g -> {
            byte[] full = g.value().getBytes(StandardCharsets.UTF_8);
            return Arbitraries.integers().between(0, full.length - 1).map(n -> new Gen<>(java.util.Arrays.copyOf(full, n), INVALID,
                    "truncated to " + n + " bytes: " + abbreviate(new String(java.util.Arrays.copyOf(full, n), StandardCharsets.UTF_8))));
        });
    }

    Arbitrary<Gen<byte[]>> junkBodies(String wf) {
        return Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(300)
                        .map(b -> new Gen<>(b, INVALID, "random bytes " + java.util.HexFormat.of().formatHex(b))),
                Arbitraries.of("[]", "null", "5", "\"str\"", "true", "[{\"workflow\":\"" + wf + "\"}]", "{", "}", "{}", "{\"workflow\"}",
                        "{\"workflow\":\"" + wf + "\",}", "{'workflow':'" + wf + "'}", "{\"workflow\":\"" + wf + "\"} {}",
                        "{\"workflow\":\"" + wf + "\"}garbage", "\ufeff{\"workflow\":\"" + wf + "\"}", "{\"workflow\":\"" + wf + "\"/*c*/}")
                        .map(s -> bytes(s, s.startsWith("\ufeff") ? EITHER : INVALID, s)),
                Arbitraries.just(new Gen<>(concat("{\"workflow\":\"".getBytes(StandardCharsets.UTF_8),
                        new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0xc3}, "\"}".getBytes(StandardCharsets.UTF_8)), INVALID,
                        "invalid UTF-8 in the workflow name")),
                Arbitraries.just(new Gen<>(concat(("{\"workflow\":\"" + wf + "\",\"input\":\"").getBytes(StandardCharsets.UTF_8),
                        new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, "\"}".getBytes(StandardCharsets.UTF_8)), EITHER,
                        "CESU surrogate bytes in the input")));
    }

    static byte[] concat(byte[]... parts) {
        var out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    static String q(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Gen<String> g(String json, Expect e) {
        return new Gen<>(json, e, abbreviate(json));
    }

    static final Gen<String> ABSENT = new Gen<>(null, VALID, "<absent>");

    /** A JSON object with the trigger fields, each absent, right or wrongly typed; its expectation is the meet of its fields'. */
    /**
     * With {@code strictTypes}, a scalar or object where the contract says string (e.g. {@code "version": 1},
     * {@code "idempotencyKey": {}}) is invalid; without, it may be coerced (so that the other properties look past it).
     */
    Arbitrary<Gen<String>> triggerObject(String wf, boolean strictTypes) {
        Expect typed = strictTypes ? INVALID : EITHER;
        Arbitrary<Gen<String>> workflow = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(g(q(wf), VALID))),
                Tuple.of(1, Arbitraries.just(new Gen<String>(null, INVALID, "<absent>"))),
                Tuple.of(1, Arbitraries.of("5", "null", "\"\"", "\"   \"", "{}", "[" + q(wf) + "]", "true", q(wf + " "), q(wf.toUpperCase()))
                        .map(s -> g(s, INVALID))),
                Tuple.of(1, FuzzSupport.nastyString().map(s -> g(q(s), INVALID))),
                Tuple.of(1, Arbitraries.integers().between(1000, 300_000).map(n -> g(q("w".repeat(n)), INVALID))));
        Arbitrary<Gen<String>> input = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(ABSENT)),
                Tuple.of(4, JsonGen.values(3).map(s -> g(s, VALID))),
                Tuple.of(1, Arbitraries.of("\"str\"", "5", "null", "[1]", "true", "-0.0", "1e308", "{}").map(s -> g(s, VALID))),
                Tuple.of(1, Arbitraries.of("\"a\\u0000b\"", "{\"k\\u0000\":1}", "\"\\ud800\"", "1e999999", "-1e999999", "1e-999999",
                        "123456789012345678901234567890123456789012345678901234567890", "[" + "1".repeat(1200) + "]")
                        .map(s -> g(s, EITHER))),
                Tuple.of(1, Arbitraries.of(50, 400, 3000).map(d -> g("[".repeat(d) + "]".repeat(d), d <= 50 ? VALID : EITHER))),
                Tuple.of(1, Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.integers().between(1, 100_000)),
                        Tuple.of(1, Arbitraries.integers().between(100_000, 3 * 1024 * 1024))).map(n -> g(q("i".repeat(n)), EITHER))));
        Arbitrary<Gen<String>> metadata = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(ABSENT)),
                Tuple.of(1, Arbitraries.of("null", "{}").map(s -> g(s, VALID))),
                Tuple.of(3, Arbitraries.maps(FuzzSupport.nastyString(), FuzzSupport.nastyString()).ofMaxSize(4).map(m -> {
                    List<String> fields = new ArrayList<>();
                    boolean nul = false;
                    for (var e : m.entrySet()) {
                        fields.add(q(e.getKey()) + ":" + q(e.getValue()));
                        nul |= FuzzSupport.hasNul(e.getKey()) || FuzzSupport.hasNul(e.getValue());
                    }
                    return g("{" + String.join(",", fields) + "}", nul ? EITHER : VALID);
                })),
                Tuple.of(1, Arbitraries.of("{\"k\":5}", "{\"k\":true}", "{\"k\":null}", "{\"k\":1.5}").map(s -> g(s, EITHER))),
                Tuple.of(2, Arbitraries.of("[1]", "\"str\"", "5", "true", "{\"k\":{\"nested\":1}}", "{\"k\":[1]}", "{\"k\":{}}")
                        .map(s -> g(s, INVALID))));
        Arbitrary<Gen<String>> priority = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(ABSENT)),
                Tuple.of(2, Arbitraries.integers().between(0, 4).map(i -> g(String.valueOf(i), VALID))),
                Tuple.of(1, Arbitraries.just(g("null", VALID))),
                Tuple.of(2, Arbitraries.oneOf(Arbitraries.integers().lessOrEqual(-1), Arbitraries.integers().greaterOrEqual(5))
                        .map(i -> g(String.valueOf(i), INVALID))),
                Tuple.of(2, Arbitraries.of("\"high\"", "\"2\"", "2.5", "2.0", "true", "1e10", "99999999999", "[1]", "{}")
                        .map(s -> g(s, INVALID))));
        Arbitrary<Gen<String>> key = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(ABSENT)),
                Tuple.of(1, Arbitraries.just(g("null", VALID))),
                Tuple.of(3, FuzzSupport.nastyString().map(s -> s + "-" + UUID.randomUUID())
                        .map(s -> g(q(s), FuzzSupport.hasNul(s) ? EITHER : VALID))),
                Tuple.of(1, Arbitraries.of("fuzz-http-fixed-key", "", "k".repeat(512)).map(s -> g(q(s), VALID))),
                Tuple.of(1, Arbitraries.integers().between(513, 5000).map(n -> g(q(UUID.randomUUID() + "k".repeat(n)), INVALID))),
                Tuple.of(2, Arbitraries.of("{}", "5", "[]", "true", "{\"a\":1}", "1.5").map(s -> g(s, typed))));
        Arbitrary<Gen<String>> version = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.just(ABSENT)),
                Tuple.of(2, Arbitraries.of("\"1\"", "null", "\"\"").map(s -> g(s, VALID))),
                Tuple.of(2, Arbitraries.of("\"2\"", "\"1 \"").map(s -> g(s, INVALID))),
                Tuple.of(2, Arbitraries.of("1", "{}", "[]", "true").map(s -> g(s, typed))),
                Tuple.of(1, FuzzSupport.nastyString().filter(s -> !s.isEmpty() && !s.equals("1")).map(s -> g(q(s), INVALID))));
        Arbitrary<Gen<String>> extra = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.just(ABSENT)),
                Tuple.of(1, Arbitraries.of("1", "null", "{\"x\":[1,2]}", "\"s\"").map(s -> g(s, VALID))));
        return object(new String[] {"workflow", "input", "metadata", "priority", "idempotencyKey", "version", "bogusField"},
                List.of(workflow, input, metadata, priority, key, version, extra));
    }

    // ------------------------------------------------------------------------------------------
    // Crons, schedules, rate limits, workers, replays
    // ------------------------------------------------------------------------------------------

    /** What a request may have changed: crons, schedules of the fuzz workflow, rate limits. */
    record Counts(int crons, int schedules, java.util.Set<String> limits) {
        static Counts take() {
            return new Counts(FuzzSupport.cronCount(channel), FuzzSupport.scheduleCount(channel, WF_SCHED), FuzzSupport.rateLimitNames(channel));
        }
    }

    /**
     * A refused request created nothing; an accepted create created exactly one object (deleted again at
     * once, so that crons do not fire); no run is left stuck.
     */
    static void checkObjects(Req req, HttpResponse<String> resp, Counts before, String ctx) throws Exception {
        boolean ok = resp.statusCode() / 100 == 2;
        String path = URI.create(req.path()).getPath().replaceAll("/+$", "");
        Counts after = Counts.take();
        int cronDelta = !ok ? 0 : req.method().equals("POST") && path.equals("/api/v1/crons") ? 1
                : req.method().equals("DELETE") && path.startsWith("/api/v1/crons/") ? -1 : 0;
        assertThat(after.crons() - before.crons()).as("crons created by %s", ctx).isEqualTo(cronDelta);
        boolean scheduled = ok && req.method().equals("POST") && path.equals("/api/v1/schedules");
        assertThat(after.schedules() - before.schedules()).as("schedules created by %s", ctx).isEqualTo(scheduled ? 1 : 0);
        boolean limitsMayChange = ok && (req.method().equals("PUT") || req.method().equals("DELETE")) && path.startsWith("/api/v1/rate-limits/");
        if (!limitsMayChange) assertThat(after.limits()).as("rate limits after %s", ctx).isEqualTo(before.limits());
        assertThat(after.limits().size() - before.limits().size()).as(ctx).isBetween(limitsMayChange ? -1 : 0, limitsMayChange ? 1 : 0);
        if (cronDelta == 1) {
            FuzzSupport.schedules(channel).deleteCron(dev.drover.proto.v1.DeleteCronRequest.newBuilder()
                    .setCronId(JSON.readTree(resp.body()).path("id").asText()).build());
        }
        for (String name : after.limits()) {
            if (!before.limits().contains(name)) {
                FuzzSupport.rateLimits(channel).deleteRateLimit(dev.drover.proto.v1.DeleteRateLimitRequest.newBuilder().setName(name).build());
            }
        }
        if (!before.limits().contains(RL_KEEP) || !after.limits().contains(RL_KEEP)) putKeeper();
        int unfinished = FuzzSupport.cancelUnfinished(channel, WF_REPLAY);
        if (!ok) assertThat(unfinished).as("a refused request restarted runs: %s", ctx).isZero();
        FuzzSupport.cancelUnfinished(channel, WF_SCHED);
        FuzzSupport.cancelUnfinished(channel, WF);
    }

    static void putKeeper() {
        FuzzSupport.rateLimits(channel).putRateLimit(dev.drover.proto.v1.PutRateLimitRequest.newBuilder().setName(RL_KEEP).setCapacity(5)
                .setWindow("minute").build());
    }

    @Property(tries = 250, shrinking = ShrinkingMode.BOUNDED)
    void admin_bodies_are_validated_and_refused_ones_create_nothing(@ForAll("adminRequests") Req req) throws Exception {
        Counts before = Counts.take();
        HttpResponse<String> resp = sendComplete(req);
        String ctx = req + "\n  -> " + resp.statusCode() + " " + abbreviate(resp.body());
        checkResponseShape(resp, ctx);
        boolean ok = resp.statusCode() / 100 == 2;
        if (req.body().expect() == INVALID) assertThat(ok).as("an invalid request must be refused: %s", ctx).isFalse();
        if (req.body().expect() == VALID) assertThat(ok).as("a valid request must be accepted: %s", ctx).isTrue();
        checkObjects(req, resp, before, ctx);
    }

    static Arbitrary<Gen<String>> js(Expect e, String... json) {
        return Arbitraries.of(json).map(s -> g(s, e));
    }

    static Arbitrary<Gen<String>> strs(Expect e, String... values) {
        return Arbitraries.of(values).map(s -> g(q(s), e));
    }

    static Arbitrary<Gen<String>> absent(Expect e) {
        return Arbitraries.just(new Gen<>(null, e, "<absent>"));
    }

    /** Not a string where the contract says string (null counts as absent). */
    static Arbitrary<Gen<String>> notAString() {
        return js(INVALID, "5", "true", "{}", "[\"x\"]", "1.5");
    }

    static Arbitrary<Gen<String>> nastyText(Expect e) {
        return FuzzSupport.nastyString().map(s -> g(q(s), e));
    }

    static Arbitrary<Gen<String>> longText(int min, int max, Expect e) {
        return Arbitraries.integers().between(min, max).map(n -> new Gen<>(q("x".repeat(n)), e, "\"x*" + n + "\""));
    }

    /** {@code unknown}: what a name that is no registered workflow is (replays of it replay nothing). */
    static Arbitrary<Gen<String>> workflowField(String wf, Expect unknown) {
        return Arbitraries.frequencyOf(Tuple.of(8, strs(VALID, wf)), Tuple.of(1, absent(INVALID)), Tuple.of(1, js(INVALID, "null")),
                Tuple.of(1, strs(INVALID, "")), Tuple.of(1, strs(unknown, " ", "no-such-workflow")), Tuple.of(1, notAString()),
                Tuple.of(1, longText(300, 50_000, unknown)));
    }

    static Arbitrary<Gen<String>> metadataField(Expect reserved) {
        return Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, js(VALID, "{}", "{\"team\":\"a\"}", "null")),
                Tuple.of(1, js(reserved, "{\"drover.cron\":\"x\"}")),
                Tuple.of(2, js(INVALID, "{\"k\":5}", "{\"k\":null}", "{\"k\":{}}", "[1]", "\"str\"", "5")));
    }

    static Arbitrary<Gen<String>> inputField() {
        return Arbitraries.frequencyOf(Tuple.of(3, absent(VALID)), Tuple.of(4, JsonGen.values(2).map(s -> g(s, VALID))),
                Tuple.of(1, js(EITHER, "null", "\"a\\u0000b\"", "1e999999", "[" + "[".repeat(3000) + "]".repeat(3000) + "]")));
    }

    /** The instant of a schedule: exactly one of fireAt (ISO), fireAtMs, delayMs, as a fragment of an object. */
    static Arbitrary<Gen<String>> whenFragment() {
        long soon = System.currentTimeMillis() + 3_600_000;
        return Arbitraries.frequencyOf(
                Tuple.of(4, js(VALID, "\"fireAt\":\"2030-01-31T07:00:00Z\"", "\"fireAtMs\":" + soon, "\"delayMs\":3600000",
                        "\"fireAt\":\"2020-01-01T00:00:00Z\"", "\"delayMs\":1", "\"fireAt\":null,\"delayMs\":1000", "\"fireAtMs\":0,\"delayMs\":1000",
                        "\"fireAt\":\"9999-12-30T00:00:00Z\"")),
                Tuple.of(4, js(INVALID, "", "\"fireAt\":\"2030-01-31T07:00:00Z\",\"delayMs\":5", "\"fireAt\":\"2030-01-31T07:00:00Z\",\"fireAtMs\":5",
                        "\"fireAtMs\":5,\"delayMs\":5", "\"fireAt\":\"yesterday\"", "\"fireAt\":5", "\"fireAt\":\"\"", "\"fireAt\":\"1969-12-31T23:59:59Z\"",
                        "\"fireAt\":\"1970-01-01T00:00:00Z\"", "\"fireAt\":\"+1000000000-01-01T00:00:00Z\"", "\"fireAt\":\"+999999999-12-31T23:59:59Z\"",
                        "\"fireAt\":\"-999999999-01-01T00:00:00Z\"", "\"fireAt\":\"+10000-01-01T00:00:00Z\"", "\"fireAtMs\":-1", "\"fireAtMs\":1.5",
                        "\"fireAtMs\":\"5\"", "\"fireAtMs\":1e300", "\"fireAtMs\":99999999999999999999", "\"fireAtMs\":9223372036854775807",
                        "\"delayMs\":-1", "\"delayMs\":9223372036854775807", "\"delayMs\":true", "\"delayMs\":null", "\"delayMs\":1.0",
                        "\"delayMs\":-9223372036854775808", "\"fireAtMs\":-9223372036854775808")));
    }

    /** An object of the given fields (a null name is a fragment of fields); its expectation is the meet of its fields'. */
    static Arbitrary<Gen<String>> object(String[] names, List<Arbitrary<Gen<String>>> fields) {
        return Combinators.combine(fields).as(values -> assemble(names, values));
    }

    static Gen<String> assemble(String[] names, List<Gen<String>> values) {
        StringBuilder sb = new StringBuilder("{");
        StringBuilder desc = new StringBuilder("{");
        Expect e = VALID;
        for (int n = 0; n < names.length; n++) {
            Gen<String> f = values.get(n);
            e = e.and(f.expect());
            if (f.value() == null || f.value().isEmpty()) continue;
            if (sb.length() > 1) {
                sb.append(',');
                desc.append(',');
            }
            String key = names[n] == null ? "" : "\"" + names[n] + "\":";
            sb.append(key).append(f.value());
            desc.append(key).append(f.desc());
        }
        return new Gen<>(sb.append('}').toString(), e, desc.append('}').toString());
    }

    static Arbitrary<Gen<String>> cronBody() {
        return object(new String[] {"workflow", "expression", "timeZone", "name", "input", "metadata", "missedTicks", "paused", "bogus"}, List.of(
                workflowField(WF_CRON, INVALID),
                Arbitraries.frequencyOf(Tuple.of(6, strs(VALID, "*/5 * * * *", "0 0 * * *", "0 0 1 1 *", "@hourly", "* * * * * *")),
                        Tuple.of(1, absent(INVALID)), Tuple.of(2, strs(INVALID, "", "* * *", "61 * * * *", "not a cron")), Tuple.of(1, notAString()),
                        Tuple.of(1, strs(EITHER, "0 0 30 2 *", "*/0 * * * *", "? ? ? ? ?")), Tuple.of(1, nastyText(EITHER))),
                Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, strs(VALID, "Europe/Berlin", "UTC")), Tuple.of(1, js(VALID, "null")),
                        Tuple.of(1, strs(INVALID, "Mars/Olympus", "GMT+99")), Tuple.of(1, notAString()), Tuple.of(1, nastyText(EITHER))),
                Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, Arbitraries.create(() -> g(q("fuzz-" + UUID.randomUUID()), VALID))),
                        Tuple.of(1, nastyText(EITHER)), Tuple.of(1, notAString()), Tuple.of(1, longText(201, 20_000, INVALID))),
                inputField(),
                metadataField(INVALID),
                Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, strs(VALID, "skip", "fire_once")),
                        Tuple.of(1, strs(INVALID, "burst", "SKIP ")), Tuple.of(1, notAString())),
                Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, js(VALID, "true", "false", "null")),
                        Tuple.of(1, js(INVALID, "\"true\"", "1", "0", "{}"))),
                Arbitraries.frequencyOf(Tuple.of(5, absent(VALID)), Tuple.of(1, js(VALID, "1", "{\"x\":[1]}")))));
    }

    static Arbitrary<Gen<String>> scheduleBody() {
        return object(new String[] {"workflow", "input", "metadata", null}, List.of(workflowField(WF_SCHED, INVALID), inputField(), metadataField(INVALID),
                whenFragment()));
    }

    static Arbitrary<Gen<String>> limitBody() {
        return object(new String[] {"capacity", null}, List.of(
                Arbitraries.frequencyOf(Tuple.of(5, js(VALID, "1", "5", "1000000", "2147483647")),
                        Tuple.of(3, js(INVALID, "0", "-1", "\"5\"", "5.5", "1e10", "2147483648", "null", "true", "[5]"))),
                Arbitraries.frequencyOf(Tuple.of(5, js(VALID, "\"window\":\"minute\"", "\"window\":\"second\"", "\"windowMs\":1000",
                                "\"windowMs\":100", "\"windowMs\":2678400000", "\"window\":null,\"windowMs\":1000")),
                        Tuple.of(3, js(INVALID, "", "\"window\":\"week\"", "\"window\":\"minute\",\"windowMs\":1000", "\"windowMs\":50",
                                "\"windowMs\":1.5", "\"window\":5", "\"windowMs\":\"1000\"", "\"windowMs\":99999999999999999999",
                                "\"windowMs\":2678400001", "\"windowMs\":-1000", "\"windowMs\":-9223372036854775808")))));
    }

    static Arbitrary<Gen<String>> pauseBody() {
        return object(new String[] {"key", "durationMs", "reason"}, List.of(
                Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, strs(VALID, "", "customer-42")), Tuple.of(1, nastyText(EITHER)),
                        Tuple.of(1, notAString()), Tuple.of(1, longText(501, 20_000, INVALID))),
                Arbitraries.frequencyOf(Tuple.of(3, absent(VALID)), Tuple.of(3, js(VALID, "0", "30000", "2678400000", "null")),
                        Tuple.of(2, js(INVALID, "-1", "1.5", "\"30000\"", "2678400001", "9223372036854775807", "-9223372036854775808", "1e300"))),
                Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, strs(VALID, "", "429 from upstream")), Tuple.of(1, nastyText(EITHER)),
                        Tuple.of(1, notAString()), Tuple.of(1, longText(501, 20_000, EITHER)))));
    }

    static Arbitrary<Gen<String>> replayFilterBody() {
        Arbitrary<Gen<String>> instant = Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)),
                Tuple.of(2, strs(VALID, "2020-01-01T00:00:00Z", "2999-01-01T00:00:00Z")),
                Tuple.of(2, strs(EITHER, "+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "0000-01-01T00:00:00Z")),
                Tuple.of(1, strs(INVALID, "yesterday", "", "2020-01-01")), Tuple.of(1, notAString()));
        return object(new String[] {"workflow", "status", "createdAfter", "createdBefore", "metadata", "fromStep", "limit"}, List.of(
                workflowField(WF_REPLAY, EITHER),
                Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, strs(VALID, "cancelled", "succeeded", "failed")),
                        Tuple.of(2, strs(INVALID, "queued", "running", "bogus")), Tuple.of(1, strs(EITHER, "")), Tuple.of(1, notAString())),
                instant, instant, metadataField(VALID),
                Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, strs(VALID, "only", "")), Tuple.of(1, nastyText(EITHER)),
                        Tuple.of(1, notAString())),
                Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, js(VALID, "1", "2", "10000", "0", "null")),
                        Tuple.of(2, js(INVALID, "-1", "10001", "\"5\"", "1.5", "1e10", "2147483648")))));
    }

    static Arbitrary<Gen<String>> replayOneBody() {
        return object(new String[] {"fromStep"}, List.of(Arbitraries.frequencyOf(Tuple.of(4, absent(VALID)), Tuple.of(2, strs(VALID, "only", "")),
                Tuple.of(1, strs(INVALID, "nope")), Tuple.of(1, nastyText(EITHER)), Tuple.of(1, notAString()))));
    }

    /** Well-formed bodies mostly; truncated and junk ones too (those are always invalid). */
    Arbitrary<Gen<byte[]>> variants(Arbitrary<Gen<String>> object, String wf) {
        return Arbitraries.frequencyOf(Tuple.of(8, object.map(g -> bytes(g.value(), g.expect(), g.desc()))),
                // Junk is invalid for every admin route, except what junkBodies itself leaves open (a BOM before
                // a JSON object, which RFC 8259 lets a parser ignore: {"workflow": wf} is a whole replay filter).
                Tuple.of(2, truncated(object)), Tuple.of(1, junkBodies(wf).map(g -> new Gen<>(g.value(), g.expect() == EITHER ? EITHER : INVALID, g.desc()))));
    }

    static Gen<byte[]> expecting(Gen<byte[]> body, Expect e) {
        return new Gen<>(body.value(), body.expect().and(e), body.desc());
    }

    Arbitrary<String> cronIds() {
        return Arbitraries.oneOf(runIds(), Arbitraries.create(() -> cronKeeperId));
    }

    Arbitrary<String> scheduleIds() {
        return Arbitraries.oneOf(runIds(), Arbitraries.create(() -> scheduleKeeperId));
    }

    Arbitrary<String> workerIds() {
        return Arbitraries.oneOf(runIds(), Arbitraries.create(() -> workerId));
    }

    Arbitrary<String> limitNames() {
        return Arbitraries.oneOf(Arbitraries.of(RL_KEEP, RL_PREFIX + "missing"),
                Arbitraries.strings().alpha().numeric().withChars("-_.").ofMinLength(1).ofMaxLength(30).map(s -> RL_PREFIX + s),
                FuzzSupport.nastyString().filter(s -> !s.isEmpty()).map(HttpFuzzProperties::enc),
                Arbitraries.of("%2F", "a%2Fb", "%20", "a+b", "%25zz", "%25", "%E2%82", RL_PREFIX + "%00", "%2e%2e"),
                Arbitraries.integers().between(201, 5000).map(n -> RL_PREFIX + "l".repeat(n)));
    }

    @Provide
    Arbitrary<Req> adminRequests() {
        Arbitrary<Req> replayOne = Combinators.combine(Arbitraries.oneOf(runIds(), Arbitraries.of(replayRunIds)),
                variants(replayOneBody(), WF_REPLAY)).as((id, b) ->
                new Req("POST", "/api/v1/runs/" + id + "/replay",
                        expecting(b, replayRunIds.contains(id) ? VALID : id.equals(finishedRunId) ? EITHER : INVALID), Token.VALID));
        Arbitrary<Req> reschedule = Combinators.combine(scheduleIds(), variants(object(new String[] {null}, List.of(whenFragment())), WF_SCHED))
                .as((id, b) -> new Req("POST", "/api/v1/schedules/" + id + "/reschedule",
                        // The keeper may have fired already (rescheduled into the past) and then refuses.
                        expecting(b, id.equals(scheduleKeeperId) ? EITHER : INVALID), Token.VALID));
        Arbitrary<Req> putLimit = Combinators.combine(limitNames(), variants(limitBody(), WF)).as((name, b) ->
                new Req("PUT", "/api/v1/rate-limits/" + name, expecting(b, name.matches("[A-Za-z0-9_.-]{1,200}") ? VALID : EITHER), Token.VALID));
        Arbitrary<Req> pause = Combinators.combine(limitNames(), variants(pauseBody(), WF)).as((name, b) ->
                new Req("POST", "/api/v1/rate-limits/" + name + "/pause", expecting(b, name.equals(RL_KEEP) ? VALID
                        : name.length() > 200 || name.equals(RL_PREFIX + "missing") ? INVALID : EITHER), Token.VALID));
        return Arbitraries.frequencyOf(
                Tuple.of(3, variants(cronBody(), WF_CRON).map(b -> new Req("POST", "/api/v1/crons", b, Token.VALID))),
                Tuple.of(3, variants(scheduleBody(), WF_SCHED).map(b -> new Req("POST", "/api/v1/schedules", b, Token.VALID))),
                Tuple.of(2, reschedule),
                Tuple.of(2, putLimit),
                Tuple.of(2, pause),
                Tuple.of(2, variants(replayFilterBody(), WF_REPLAY).map(b -> new Req("POST", "/api/v1/runs/replay", b, Token.VALID))),
                Tuple.of(1, replayOne));
    }
}
