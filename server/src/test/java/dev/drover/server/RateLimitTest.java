package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.RateLimitUse;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.RateLimit;
import dev.drover.sdk.RateLimitBucket;
import dev.drover.sdk.RateLimitInfo;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunRequest;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.StepStatus;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import dev.drover.sdk.internal.Transport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rate limits end to end on a real server with real workers: never exceeded per window, per-key
 * buckets, no slot held while throttled, pauses, changes at run time, and bad input. Limits that must
 * not roll over during a test use a 31-day window (aligned to the epoch, so a boundary falls in a test
 * run about never).
 */
class RateLimitTest {
    static final Duration LONG = Duration.ofDays(31);
    static DroverClient client;
    static final List<Worker> workers = new ArrayList<>();
    static final HttpClient http = HttpClient.newHttpClient();

    // ---- a static limit, several workers ---------------------------------------------------------

    static final List<Long> staticStarts = new CopyOnWriteArrayList<>();

    @Workflow(name = "rl-static", version = "1")
    public static class Static {
        @Step
        @RateLimit(name = "rl-static-8")
        public long call() throws InterruptedException {
            long t = System.currentTimeMillis();
            staticStarts.add(t);
            Thread.sleep(5);
            return t;
        }
    }

    @Test
    void aStaticLimitIsNeverExceededInAnyWindowWhateverTheNumberOfWorkers() {
        client.putRateLimit("rl-static-8", 8, Duration.ofSeconds(1));
        List<RunRequest> reqs = new ArrayList<>();
        for (int i = 0; i < 28; i++) reqs.add(RunRequest.of("rl-static", Map.of("i", i)));
        for (RunHandle h : client.runMany(reqs)) assertThat(h.await(Duration.ofSeconds(30)).status()).isEqualTo(RunStatus.SUCCEEDED);
        Map<Long, Integer> perSecond = new TreeMap<>();
        for (long t : staticStarts) perSecond.merge(t / 1000, 1, Integer::sum);
        System.out.println("rl-static: starts per 1-second window " + perSecond.values());
        assertThat(perSecond.values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(8));
        assertThat(perSecond).hasSizeGreaterThanOrEqualTo(4); // 28 at 8 per second
    }

    // ---- dynamic keys ----------------------------------------------------------------------------

    @Workflow(name = "rl-dynamic", version = "1")
    public static class Dynamic {
        @Step
        @RateLimit(name = "rl-per-customer", key = "input.customer")
        public String call(Map<String, String> in) {
            return in.get("customer");
        }
    }

    @Test
    void eachKeyOfADynamicLimitHasItsOwnBucketAndRaisingTheCapacityLetsTheWaitingOnesGo() throws Exception {
        client.putRateLimit("rl-per-customer", 3, LONG);
        List<RunHandle> a = new ArrayList<>();
        List<RunHandle> b = new ArrayList<>();
        for (int i = 0; i < 6; i++) a.add(client.run("rl-dynamic", Map.of("customer", "A")));
        for (int i = 0; i < 2; i++) b.add(client.run("rl-dynamic", Map.of("customer", "B")));
        for (RunHandle h : b) assertThat(h.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
        eventually(() -> count(a, RunStatus.SUCCEEDED) == 3, "3 of A's runs succeed");
        Thread.sleep(700); // the others stay queued: A's bucket is full, B's was not A's
        assertThat(count(a, RunStatus.SUCCEEDED)).isEqualTo(3);
        for (RunHandle h : a) {
            RunInfo r = h.status();
            if (r.status() == RunStatus.SUCCEEDED) continue;
            // Put back as if never claimed: queued, no attempt counted, no worker.
            assertThat(r.status()).isEqualTo(RunStatus.QUEUED);
            assertThat(r.steps().get(0).status()).isEqualTo(StepStatus.QUEUED);
            assertThat(r.steps().get(0).attempts()).isZero();
            assertThat(r.startedAt()).isNull();
        }
        RateLimitInfo info = client.getRateLimit("rl-per-customer");
        Map<String, RateLimitBucket> byKey = new TreeMap<>();
        info.buckets().forEach(x -> byKey.put(x.key(), x));
        assertThat(byKey.get("A").used()).isEqualTo(3);
        assertThat(byKey.get("A").remaining()).isZero();
        assertThat(byKey.get("B").used()).isEqualTo(2);
        assertThat(info.buckets().get(0).key()).as("the global bucket comes first").isEmpty();
        assertThat(info.buckets().get(1).key()).as("then the busiest key").isEqualTo("A");
        assertThat(info.activeKeys()).isEqualTo(2);

        long t0 = System.nanoTime();
        client.putRateLimit("rl-per-customer", 6, LONG);
        for (RunHandle h : a) assertThat(h.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
        System.out.printf("rl-dynamic: raising the capacity let A's waiting runs finish in %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
    }

    // ---- the grant, as the worker sees it ----------------------------------------------------------

    @Workflow(name = "rl-grant", version = "1")
    public static class Granted {
        @Step
        @RateLimit(name = "rl-grant", key = "input.customer", units = 2)
        public List<String> call(Map<String, String> in, dev.drover.sdk.StepContext ctx) {
            return ctx.rateLimitGrants().stream().map(g -> g.limitName() + "|" + g.key() + "|" + g.units() + "|"
                    + g.windowStart().toEpochMilli() + "|" + g.window().toMillis()).toList();
        }
    }

    @Test
    void aStepIsToldWhichWindowItsUnitsWereCountedIn() {
        client.putRateLimit("rl-grant", 10, LONG);
        RunInfo r = client.run("rl-grant", Map.of("customer", "C")).await(Duration.ofSeconds(10));
        assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
        String out = r.steps().get(0).outputJson();
        String grant = out.substring(2, out.length() - 2); // ["..."]
        String[] p = grant.split("\\|");
        assertThat(p).hasSize(5);
        assertThat(p[0] + "|" + p[1] + "|" + p[2]).isEqualTo("rl-grant|C|2");
        long start = Long.parseLong(p[3]);
        assertThat(Long.parseLong(p[4])).isEqualTo(LONG.toMillis());
        assertThat(start % LONG.toMillis()).as("windows are aligned to the epoch").isZero();
        // The window holding the moment the step was handed out (the step's start, same database clock).
        long handedOut = r.steps().get(0).startedAt().toEpochMilli();
        assertThat(handedOut).isBetween(start, start + LONG.toMillis() - 1);
    }

    static final List<Long> changeStarts = new CopyOnWriteArrayList<>();

    @Workflow(name = "rl-change", version = "1")
    public static class Change {
        @Step
        @RateLimit(name = "rl-change")
        public void call() {
            changeStarts.add(System.currentTimeMillis());
        }
    }

    @Test
    void changingTheWindowAtRunTimeTakesEffectAtTheNextAcquisition() {
        client.putRateLimit("rl-change", 2, LONG);
        List<RunHandle> runs = new ArrayList<>();
        for (int i = 0; i < 6; i++) runs.add(client.run("rl-change", Map.of()));
        eventually(() -> count(runs, RunStatus.SUCCEEDED) == 2, "2 runs go");
        // 2 per month becomes 2 per second: the 2 taken this month count in this second, then 2 a second.
        client.putRateLimit("rl-change", 2, Duration.ofSeconds(1));
        for (RunHandle h : runs) assertThat(h.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
        Map<Long, Integer> perSecond = new TreeMap<>();
        for (long t : changeStarts) perSecond.merge(t / 1000, 1, Integer::sum);
        assertThat(perSecond.values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(2));
    }

    // ---- no slot while throttled -------------------------------------------------------------------

    @Workflow(name = "rl-tight", version = "1")
    public static class Tight {
        @Step
        @RateLimit(name = "rl-tight")
        public String call() {
            return "ok";
        }
    }

    @Workflow(name = "rl-quick", version = "1")
    public static class Quick {
        @Step
        public String call() {
            return "quick";
        }
    }

    @Test
    void aThrottledStepHoldsNoWorkerSlot() throws Exception {
        client.putRateLimit("rl-tight", 1, LONG);
        try (Worker one = client.newWorker("rl-one-slot").register(new Tight()).register(new Quick()).slots(1).start()) {
            List<RunHandle> tight = new ArrayList<>();
            for (int i = 0; i < 3; i++) tight.add(client.run("rl-tight", Map.of()));
            eventually(() -> count(tight, RunStatus.SUCCEEDED) == 1, "the first throttled run goes");
            List<RunHandle> quick = new ArrayList<>();
            for (int i = 0; i < 5; i++) quick.add(client.run("rl-quick", Map.of()));
            // The single slot is free for other work while two rate-limited steps wait.
            for (RunHandle h : quick) assertThat(h.await(Duration.ofSeconds(5)).status()).isEqualTo(RunStatus.SUCCEEDED);
            assertThat(count(tight, RunStatus.QUEUED)).isEqualTo(2);
            client.putRateLimit("rl-tight", 3, LONG);
            for (RunHandle h : tight) assertThat(h.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
        }
    }

    // ---- pauses ------------------------------------------------------------------------------------

    static final Map<String, Long> pauseStarts = new ConcurrentHashMap<>();

    @Workflow(name = "rl-pausable", version = "1")
    public static class Pausable {
        @Step
        @RateLimit(name = "rl-pause", key = "input.customer")
        public void call(Map<String, String> in, StepContext ctx) {
            pauseStarts.put(ctx.runId(), System.currentTimeMillis());
        }
    }

    static final Map<String, List<Long>> attemptStarts = new ConcurrentHashMap<>();

    @Workflow(name = "rl-429", version = "1")
    public static class TooMany {
        @Step(maxAttempts = 3, initialBackoff = "100ms")
        @RateLimit(name = "rl-pause", key = "input.customer")
        public int call(Map<String, String> in, StepContext ctx) {
            attemptStarts.computeIfAbsent(ctx.runId(), k -> new CopyOnWriteArrayList<>()).add(System.currentTimeMillis());
            if (ctx.attempt() == 1) {
                ctx.rateLimited("rl-pause", in.get("customer"), Duration.ofMillis(1200));
                throw new IllegalStateException("upstream said 429");
            }
            return ctx.attempt();
        }
    }

    @Test
    void aPausedKeyStartsNothingBeforeThePauseEndsAndOtherKeysGoOn() throws Exception {
        client.putRateLimit("rl-pause", 100, Duration.ofSeconds(1));
        RateLimitBucket paused = client.pauseRateLimitKey("rl-pause", "p1", Duration.ofMillis(1500), "429 from upstream");
        assertThat(paused.pausedUntil()).isNotNull();
        assertThat(paused.pauseReason()).isEqualTo("429 from upstream");
        RunHandle p1 = client.run("rl-pausable", Map.of("customer", "p1"));
        RunHandle p2 = client.run("rl-pausable", Map.of("customer", "p2"));
        assertThat(p2.await(Duration.ofSeconds(5)).status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(pauseStarts.get(p2.runId())).isLessThan(paused.pausedUntil().toEpochMilli());
        assertThat(p1.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(pauseStarts.get(p1.runId())).isGreaterThanOrEqualTo(paused.pausedUntil().toEpochMilli());
        assertThat(client.getRateLimit("rl-pause").pausedKeys()).isZero();
    }

    @Test
    void liftingAPauseLetsTheKeysStepsGoAtOnce() throws Exception {
        client.putRateLimit("rl-pause", 100, Duration.ofSeconds(1));
        client.pauseRateLimitKey("rl-pause", "p3", Duration.ofMinutes(10));
        // A shorter pause never shortens a longer one.
        assertThat(client.pauseRateLimitKey("rl-pause", "p3", Duration.ofSeconds(1)).pausedUntil())
                .isAfter(java.time.Instant.now().plusSeconds(500));
        RunHandle p3 = client.run("rl-pausable", Map.of("customer", "p3"));
        Thread.sleep(500);
        assertThat(p3.status().status()).isEqualTo(RunStatus.QUEUED);
        assertThat(client.getRateLimit("rl-pause").buckets()).anySatisfy(b -> {
            assertThat(b.key()).isEqualTo("p3");
            assertThat(b.pausedUntil()).isNotNull();
        });
        long t0 = System.nanoTime();
        assertThat(client.pauseRateLimitKey("rl-pause", "p3", Duration.ZERO).pausedUntil()).isNull();
        assertThat(p3.await(Duration.ofSeconds(5)).status()).isEqualTo(RunStatus.SUCCEEDED);
        System.out.printf("rl-pause: lifting a 10-minute pause let the waiting step run within %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void aStepToldTooManyRequestsPausesItsKeyAndItsRetryWaitsForThePause() {
        client.putRateLimit("rl-pause", 100, Duration.ofSeconds(1));
        RunHandle h = client.run("rl-429", Map.of("customer", "p4"));
        RunInfo done = h.await(Duration.ofSeconds(15));
        assertThat(done.status()).isEqualTo(RunStatus.SUCCEEDED);
        List<Long> starts = attemptStarts.get(h.runId());
        assertThat(starts).hasSize(2);
        // The retry's backoff was 100 ms; the pause held it for the 1.2 s the step asked for.
        assertThat(starts.get(1) - starts.get(0)).isGreaterThanOrEqualTo(1_150);
    }

    // ---- units per attempt, missing limits ---------------------------------------------------------

    @Workflow(name = "rl-retried", version = "1")
    public static class Retried {
        @Step(maxAttempts = 2, initialBackoff = "50ms")
        @RateLimit(name = "rl-attempts", units = 3)
        public int call(StepContext ctx) {
            if (ctx.attempt() == 1) throw new IllegalStateException("first attempt fails");
            return ctx.attempt();
        }
    }

    @Test
    void everyAttemptConsumesItsUnits() {
        client.putRateLimit("rl-attempts", 100, LONG);
        assertThat(client.run("rl-retried", Map.of()).await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(client.getRateLimit("rl-attempts").buckets().get(0).used()).isEqualTo(6);
    }

    @Workflow(name = "rl-missing", version = "1")
    public static class Missing {
        @Step
        @RateLimit(name = "rl-not-created-yet")
        public String call() {
            return "ok";
        }
    }

    @Test
    void aStepNamingALimitThatDoesNotExistWaitsUntilItIsCreated() throws Exception {
        RunHandle h = client.run("rl-missing", Map.of());
        Thread.sleep(1_200);
        assertThat(h.status().status()).isEqualTo(RunStatus.QUEUED);
        client.putRateLimit("rl-not-created-yet", 1, LONG);
        assertThat(h.await(Duration.ofSeconds(5)).status()).isEqualTo(RunStatus.SUCCEEDED);
    }

    // ---- API and bad input ---------------------------------------------------------------------------

    @Test
    void badInputIsRefusedNamingTheField() throws Exception {
        assertThatThrownBy(() -> client.putRateLimit("rl-bad", 0, Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(DroverException.class, e -> {
                    assertThat(e.code()).isEqualTo(DroverException.Code.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("capacity");
                });
        assertThatThrownBy(() -> client.putRateLimit("rl-bad", 5, Duration.ofMillis(10)))
                .isInstanceOfSatisfying(DroverException.class, e -> {
                    assertThat(e.code()).isEqualTo(DroverException.Code.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("window_ms");
                });
        assertThatThrownBy(() -> client.putRateLimit(" ", 5, Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.getMessage()).contains("name"));
        assertThatThrownBy(() -> client.getRateLimit("rl-no-such"))
                .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.NOT_FOUND));
        assertThatThrownBy(() -> client.pauseRateLimitKey("rl-no-such", "k", Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.NOT_FOUND));
        assertThatThrownBy(() -> client.deleteRateLimit("rl-no-such"))
                .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.NOT_FOUND));

        // A bad key expression is refused when the workflow is registered.
        try (Transport t = new Transport("127.0.0.1:" + TestServer.shared().grpcPort(), TestServer.TOKEN, Duration.ofSeconds(10))) {
            assertThatThrownBy(() -> t.runs().putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(WorkflowDefinition.newBuilder()
                    .setName("rl-bad-key").setVersion("1").addSteps(StepDefinition.newBuilder().setName("s")
                            .addRateLimits(RateLimitUse.newBuilder().setLimitName("x").setKeyExpression("input.(")))).build()))
                    .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).startsWith("workflow.steps.rate_limits.key_expression:");
                    });
            assertThatThrownBy(() -> t.runs().putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(WorkflowDefinition.newBuilder()
                    .setName("rl-bad-units").setVersion("1").addSteps(StepDefinition.newBuilder().setName("s")
                            .addRateLimits(RateLimitUse.newBuilder().setLimitName("x").setUnits(-1)))).build()))
                    .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getDescription()).startsWith("workflow.steps.rate_limits.units:"));
        }
        // The SDK checks the annotation before anything is sent.
        assertThatThrownBy(() -> client.newWorker("rl-bad").register(new BadUnits()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("units");

        // HTTP: 400 naming the field.
        HttpResponse<String> r = httpCall("PUT", "/api/v1/rate-limits/rl-bad", "{\"capacity\": 5, \"window\": \"fortnight\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("window").contains("fortnight");
        r = httpCall("PUT", "/api/v1/rate-limits/rl-bad", "{\"capacity\": 0, \"window\": \"second\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("capacity");
        r = httpCall("PUT", "/api/v1/rate-limits/rl-bad", "{\"window\": \"second\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("capacity");
        r = httpCall("PUT", "/api/v1/rate-limits/rl-bad", "{\"capacity\": 5}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("window");
        r = httpCall("PUT", "/api/v1/rate-limits/rl-bad", "{\"capacity\": 5, \"windowMs\": 99}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("window_ms");
        r = httpCall("PUT", "/api/v1/rate-limits/rl-bad", "[1]");
        assertThat(r.statusCode()).isEqualTo(400);
        r = httpCall("GET", "/api/v1/rate-limits/rl-no-such", null);
        assertThat(r.statusCode()).isEqualTo(404);
        r = httpCall("POST", "/api/v1/rate-limits/rl-no-such/pause", "{\"key\": \"k\", \"durationMs\": 1000}");
        assertThat(r.statusCode()).isEqualTo(404);
    }

    @Workflow(name = "rl-bad-units", version = "1")
    public static class BadUnits {
        @Step
        @RateLimit(name = "x", units = 0)
        public void call() {}
    }

    @Test
    void theHttpApiCreatesShowsPausesAndDeletesLimits() throws Exception {
        HttpResponse<String> r = httpCall("PUT", "/api/v1/rate-limits/rl-http", "{\"capacity\": 7, \"window\": \"minute\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"capacity\":7").contains("\"window\":\"minute\"").contains("\"windowMs\":60000");
        r = httpCall("POST", "/api/v1/rate-limits/rl-http/pause", "{\"key\": \"k1\", \"durationMs\": 60000, \"reason\": \"429\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"key\":\"k1\"").contains("\"pauseReason\":\"429\"");
        r = httpCall("GET", "/api/v1/rate-limits/rl-http?top=5", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"pausedKeys\":1").contains("\"key\":\"k1\"");
        r = httpCall("GET", "/api/v1/rate-limits", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"name\":\"rl-http\"");
        r = httpCall("PUT", "/api/v1/rate-limits/rl-http", "{\"capacity\": 9, \"windowMs\": 250}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"capacity\":9").contains("\"windowMs\":250").contains("\"window\":null");
        r = httpCall("DELETE", "/api/v1/rate-limits/rl-http", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(httpCall("GET", "/api/v1/rate-limits/rl-http", null).statusCode()).isEqualTo(404);
        assertThat(client.listRateLimits()).noneSatisfy(l -> assertThat(l.name()).isEqualTo("rl-http"));
    }

    // ---- plumbing --------------------------------------------------------------------------------

    static HttpResponse<String> httpCall(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + TestServer.shared().httpPort() + path))
                .header("Authorization", "Bearer " + TestServer.TOKEN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static long count(List<RunHandle> runs, RunStatus status) {
        return runs.stream().filter(h -> h.status().status() == status).count();
    }

    static void eventually(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @BeforeAll
    static void start() {
        client = TestServer.client();
        // Three workers share the static limit; one of them also serves the other workflows.
        for (int i = 0; i < 3; i++) {
            var b = client.newWorker("rl-worker-" + i).register(new Static()).slots(4);
            if (i == 0) {
                b.register(new Dynamic()).register(new Change()).register(new Pausable()).register(new TooMany())
                        .register(new Retried()).register(new Granted()).register(new Missing()).slots(16);
            }
            workers.add(b.start());
        }
    }

    @AfterAll
    static void stop() {
        workers.forEach(Worker::close);
        client.close();
    }
}
