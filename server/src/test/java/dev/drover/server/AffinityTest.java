package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.sdk.Affinity;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunRequest;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepInfo;
import dev.drover.sdk.Sticky;
import dev.drover.sdk.Worker;
import dev.drover.sdk.WorkerInfo;
import dev.drover.sdk.Workflow;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Worker labels and affinity, sticky runs, slot cost, and pausing/draining workers, end to end: a
 * real server and real SDK workers, two or more per test. Each workflow instance knows the worker it
 * was registered on (its tag), and every step returns that tag, so the tests see where steps ran from
 * the steps themselves as well as from the server's record (StepInfo.workerId).
 */
class AffinityTest {
    static DroverClient client;

    // ---- required labels ------------------------------------------------------------------------------

    @Workflow(name = "aff-gpu", version = "1")
    public static class Gpu {
        final String tag;

        public Gpu(String tag) {
            this.tag = tag;
        }

        @Step
        public String prep() {
            return tag;
        }

        @Step(parents = "prep")
        @Affinity(key = "gpu", value = "true", required = true)
        public String render() throws InterruptedException {
            Thread.sleep(5);
            return tag;
        }
    }

    @Workflow(name = "aff-tpu-nobody", version = "1")
    public static class NobodyHasIt {
        @Step(scheduleToStartTimeout = "1s")
        @Affinity(key = "tpu", value = "v5", required = true)
        public String run() {
            return "never";
        }
    }

    @Test
    void aStepRequiringALabelRunsOnlyOnAWorkerWithIt() {
        try (Worker gpu = client.newWorker("aff-gpu-yes").label("gpu", "true").register(new Gpu("gpu"))
                     .register(new NobodyHasIt()).slots(4).start();
             Worker cpu = client.newWorker("aff-gpu-no").label("gpu", "false").register(new Gpu("cpu"))
                     .register(new NobodyHasIt()).slots(4).start()) {
            List<RunRequest> reqs = new ArrayList<>();
            for (int i = 0; i < 40; i++) reqs.add(RunRequest.of("aff-gpu", Map.of("i", i)));
            Map<String, Integer> prepOn = new HashMap<>();
            for (RunHandle h : client.runMany(reqs)) {
                RunInfo r = h.await(Duration.ofSeconds(30));
                assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
                StepInfo render = step(r, "render");
                assertThat(render.outputJson()).isEqualTo("\"gpu\"");
                assertThat(render.workerId()).isEqualTo(gpu.workerId());
                prepOn.merge(step(r, "prep").outputJson(), 1, Integer::sum);
            }
            System.out.printf("required labels: 40 of 40 'render' steps on the gpu worker; 'prep' (no affinity) ran %s%n", prepOn);

            // No worker has tpu=v5: the step waits, then fails by its schedule-to-start timeout.
            RunInfo nobody = client.run("aff-tpu-nobody", Map.of()).await(Duration.ofSeconds(15));
            assertThat(nobody.status()).isEqualTo(RunStatus.FAILED);
            assertThat(nobody.error()).contains("schedule-to-start");
        }
    }

    // ---- preferred labels -----------------------------------------------------------------------------

    @Workflow(name = "aff-prefer", version = "1")
    public static class Prefer {
        final String tag;

        public Prefer(String tag) {
            this.tag = tag;
        }

        @Step
        @Affinity(key = "region", value = "eu", weight = 10)
        public String work(Map<String, Integer> in) throws InterruptedException {
            Thread.sleep(in.get("sleepMs"));
            return tag;
        }
    }

    /**
     * "Nearly all" made exact: a step goes to the less preferred worker only after it waited the preference
     * window (1 s; the us worker scores 0 of the best 10, so the whole window) for the preferred one, which
     * happens only while the preferred worker has no free slot. With both workers free and the eu worker
     * keeping up, that is none of them. Measured: 200 of 200 on eu with the 2-core machine otherwise quiet;
     * with a load average of 8-12 from other builds, 134-164 of 200 (then even a plain workflow needs 1.3-1.8 s
     * for these 200 steps on 8 slots, so some steps do wait over a second), every step us took having waited
     * at least the window, which is what the test checks.
     */
    @Test
    void aPreferredWorkerGetsTheWorkWhileItHasRoomAndOthersHelpWhenItIsSaturated() {
        try (Worker eu = client.newWorker("aff-eu").label("region", "eu").register(new Prefer("eu")).slots(8).start();
             Worker us = client.newWorker("aff-us").label("region", "us").register(new Prefer("us")).slots(8).start()) {
            Map<String, Integer> light = distribution(200, 10);
            System.out.printf("preferred labels, both workers free: 200 steps of 10 ms -> %s%n", light);
            assertThat(light.getOrDefault("\"eu\"", 0)).isGreaterThan(light.getOrDefault("\"us\"", 0));

            // Saturated: 80 steps of 200 ms need 2 s on eu's 8 slots; after waiting 1 s a step may go to us.
            long t0 = System.nanoTime();
            Map<String, Integer> heavy = distribution(80, 200);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("preferred labels, eu saturated: 80 steps of 200 ms -> %s in %d ms%n", heavy, ms);
            assertThat(heavy.getOrDefault("\"eu\"", 0)).isGreaterThan(heavy.getOrDefault("\"us\"", 0));
            assertThat(heavy.getOrDefault("\"us\"", 0)).isPositive();
        }
    }

    /** Runs n steps; asserts that every step the us worker took had waited the whole preference window. */
    private static Map<String, Integer> distribution(int n, int sleepMs) {
        List<RunRequest> reqs = new ArrayList<>();
        for (int i = 0; i < n; i++) reqs.add(RunRequest.of("aff-prefer", Map.of("sleepMs", sleepMs)));
        Map<String, Integer> on = new HashMap<>();
        for (RunHandle h : client.runMany(reqs)) {
            RunInfo r = h.await(Duration.ofSeconds(30));
            assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
            on.merge(r.outputJson(), 1, Integer::sum);
            if (r.outputJson().equals("\"us\"")) {
                // Both instants come from the database clock: queued at the run's creation, started at the claim.
                assertThat(Duration.between(r.createdAt(), step(r, "work").startedAt()).toMillis())
                        .as("wait of a step the less preferred worker took").isGreaterThanOrEqualTo(999);
            }
        }
        return on;
    }

    // ---- sticky runs ----------------------------------------------------------------------------------

    /** A diamond: a, then b and c side by side, then d. */
    public static class Diamond {
        final String tag;

        Diamond(String tag) {
            this.tag = tag;
        }

        @Step
        public String a() throws InterruptedException {
            Thread.sleep(3);
            return tag;
        }

        @Step(parents = "a")
        public String b() throws InterruptedException {
            Thread.sleep(3);
            return tag;
        }

        @Step(parents = "a")
        public String c() throws InterruptedException {
            Thread.sleep(3);
            return tag;
        }

        @Step(parents = {"b", "c"})
        public String d() {
            return tag;
        }
    }

    @Workflow(name = "aff-sticky-hard", version = "1", sticky = Sticky.HARD)
    public static class HardDiamond extends Diamond {
        public HardDiamond(String tag) {
            super(tag);
        }
    }

    @Workflow(name = "aff-sticky-soft", version = "1", sticky = Sticky.SOFT)
    public static class SoftDiamond extends Diamond {
        public SoftDiamond(String tag) {
            super(tag);
        }
    }

    @Test
    void everyStepOfAStickyRunRunsOnTheWorkerOfItsFirstStep() {
        try (Worker one = client.newWorker("aff-sticky-1").register(new HardDiamond("one")).register(new SoftDiamond("one"))
                     .slots(4).start();
             Worker two = client.newWorker("aff-sticky-2").register(new HardDiamond("two")).register(new SoftDiamond("two"))
                     .slots(4).start()) {
            for (String wf : List.of("aff-sticky-hard", "aff-sticky-soft")) {
                boolean hard = wf.endsWith("hard");
                List<RunRequest> reqs = new ArrayList<>();
                for (int i = 0; i < 40; i++) reqs.add(RunRequest.of(wf, Map.of("i", i)));
                Map<String, Integer> runsOn = new HashMap<>();
                int onOneWorker = 0;
                for (RunHandle h : client.runMany(reqs)) {
                    RunInfo r = h.await(Duration.ofSeconds(30));
                    assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
                    String first = step(r, "a").workerId();
                    boolean together = true;
                    for (StepInfo s : r.steps()) {
                        if (hard) {
                            assertThat(s.workerId()).as("%s run %s step %s", wf, r.id(), s.name()).isEqualTo(first);
                        } else if (!s.workerId().equals(first)) {
                            // Soft: another worker only after the step waited the soft window for the run's worker.
                            Instant ready = s.parents().stream().map(p -> step(r, p).finishedAt()).max(Instant::compareTo).orElseThrow();
                            assertThat(Duration.between(ready, s.startedAt()).toMillis()).isGreaterThanOrEqualTo(999);
                        }
                        together &= s.workerId().equals(first);
                    }
                    if (together) onOneWorker++;
                    runsOn.merge(step(r, "a").outputJson(), 1, Integer::sum);
                }
                System.out.printf("%s: %d of 40 runs of 4 steps entirely on the worker of their first step; runs per worker %s%n",
                        wf, onOneWorker, runsOn);
                assertThat(runsOn).hasSize(2); // both workers took runs: stickiness is per run
                // Soft: without stickiness a run's 4 steps would all land on one of two workers 1 time in 8.
                assertThat(onOneWorker).isGreaterThanOrEqualTo(hard ? 40 : 30);
            }
        }
    }

    @Workflow(name = "aff-sticky-roots", version = "1", sticky = Sticky.HARD)
    public static class TwoRoots {
        final String tag;

        public TwoRoots(String tag) {
            this.tag = tag;
        }

        @Step
        public String r1() throws InterruptedException {
            Thread.sleep(5);
            return tag;
        }

        @Step
        public String r2() throws InterruptedException {
            Thread.sleep(5);
            return tag;
        }

        @Step(parents = {"r1", "r2"})
        public String join() {
            return tag;
        }
    }

    @Test
    void parallelFirstStepsOfAHardStickyRunEndOnOneWorker() {
        // One slot each: one worker claims r1, the other then claims r2 of the same run, finds the run stuck
        // to the first worker and gives r2 back in the same transaction; it runs on the first worker later.
        try (Worker one = client.newWorker("aff-roots-1").register(new TwoRoots("one")).slots(1).start();
             Worker two = client.newWorker("aff-roots-2").register(new TwoRoots("two")).slots(1).start()) {
            List<RunRequest> reqs = new ArrayList<>();
            for (int i = 0; i < 20; i++) reqs.add(RunRequest.of("aff-sticky-roots", Map.of("i", i)));
            Set<String> used = new HashSet<>();
            for (RunHandle h : client.runMany(reqs)) {
                RunInfo r = h.await(Duration.ofSeconds(30));
                assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
                Set<String> workers = new HashSet<>();
                for (StepInfo s : r.steps()) workers.add(s.workerId());
                assertThat(workers).as("run %s", r.id()).hasSize(1);
                assertThat(step(r, "r2").attempts()).isEqualTo(1); // a give-back is not an attempt
                used.addAll(workers);
            }
            assertThat(used).hasSize(2);
        }
    }

    @Test
    void badAffinityIsRefusedNamingTheField() {
        var t = new dev.drover.sdk.internal.Transport("127.0.0.1:" + TestServer.shared().grpcPort(), TestServer.TOKEN,
                Duration.ofSeconds(10));
        try {
            var step = dev.drover.proto.v1.StepDefinition.newBuilder().setName("s");
            var wf = dev.drover.proto.v1.WorkflowDefinition.newBuilder().setName("aff-bad").setVersion("1");
            assertThatThrownBy(() -> t.runs().putWorkflow(dev.drover.proto.v1.PutWorkflowRequest.newBuilder()
                    .setWorkflow(wf.clone().setSticky("sometimes").addSteps(step.clone())).build()))
                    .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("workflow.sticky");
            assertThatThrownBy(() -> t.runs().putWorkflow(dev.drover.proto.v1.PutWorkflowRequest.newBuilder()
                    .setWorkflow(wf.clone().addSteps(step.clone().addAffinity(
                            dev.drover.proto.v1.LabelAffinity.newBuilder().setKey("region").setValue("eu")))).build()))
                    .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("workflow.steps.affinity.weight");
        } finally {
            t.close();
        }
    }

    /** First step, a durable sleep (during which its worker goes away), then the second step. */
    public static class Pause2 {
        final String tag;
        static final Map<String, CountDownLatch> firstDone = new ConcurrentHashMap<>();

        Pause2(String tag) {
            this.tag = tag;
        }

        @Step
        public String first(Map<String, String> in) {
            firstDone.computeIfAbsent(in.get("key"), k -> new CountDownLatch(1)).countDown();
            return tag;
        }

        @Step(parents = "first", sleep = "1500ms", scheduleToStartTimeout = "2s")
        public String second() {
            return tag;
        }
    }

    @Workflow(name = "aff-gone-hard", version = "1", sticky = Sticky.HARD)
    public static class GoneHard extends Pause2 {
        public GoneHard(String tag) {
            super(tag);
        }
    }

    @Workflow(name = "aff-gone-soft", version = "1", sticky = Sticky.SOFT)
    public static class GoneSoft extends Pause2 {
        public GoneSoft(String tag) {
            super(tag);
        }
    }

    @Test
    void whenTheRunsWorkerIsGoneSoftFallsBackAndHardWaitsUntilItsTimeout() throws Exception {
        Worker first = client.newWorker("aff-gone-first").register(new GoneHard("first")).register(new GoneSoft("first"))
                .slots(4).start();
        RunHandle hard = client.run("aff-gone-hard", Map.of("key", "hard"));
        RunHandle soft = client.run("aff-gone-soft", Map.of("key", "soft"));
        assertThat(Pause2.firstDone.computeIfAbsent("hard", k -> new CountDownLatch(1)).await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(Pause2.firstDone.computeIfAbsent("soft", k -> new CountDownLatch(1)).await(10, TimeUnit.SECONDS)).isTrue();
        first.close(); // during the second steps' sleep
        try (Worker other = client.newWorker("aff-gone-other").register(new GoneHard("other")).register(new GoneSoft("other"))
                .slots(4).start()) {
            RunInfo s = soft.await(Duration.ofSeconds(15));
            assertThat(s.status()).isEqualTo(RunStatus.SUCCEEDED);
            assertThat(step(s, "first").outputJson()).isEqualTo("\"first\"");
            assertThat(step(s, "second").outputJson()).isEqualTo("\"other\"");
            RunInfo h = hard.await(Duration.ofSeconds(15));
            assertThat(h.status()).isEqualTo(RunStatus.FAILED);
            assertThat(h.error()).contains("second").contains("schedule-to-start");
            assertThat(step(h, "second").workerId()).isNull(); // never started anywhere
            System.out.printf("sticky, worker gone: soft ran its second step on the other worker %d ms after the sleep"
                            + " ended; hard failed by its 2 s schedule-to-start timeout%n",
                    Duration.between(step(s, "first").finishedAt(), step(s, "second").startedAt()).toMillis() - 1500);
        }
    }

    // ---- pausing and draining -------------------------------------------------------------------------

    static final Map<String, CountDownLatch> releases = new ConcurrentHashMap<>();

    @Workflow(name = "aff-pause", version = "1")
    public static class Pausable {
        @Step(executionTimeout = "60s")
        public String work(Map<String, String> in) throws InterruptedException {
            String hold = in.get("hold");
            if (hold != null) releases.computeIfAbsent(hold, k -> new CountDownLatch(1)).await(30, TimeUnit.SECONDS);
            return "ok";
        }
    }

    @Test
    void aDrainedWorkerFinishesItsWorkAndGetsNothingNewUntilResumed() throws Exception {
        try (Worker p = client.newWorker("aff-pause-p").label("pool", "a").register(new Pausable()).slots(4).start()) {
            RunHandle held1 = client.run("aff-pause", Map.of("hold", "d1"));
            RunHandle held2 = client.run("aff-pause", Map.of("hold", "d2"));
            awaitStatus(held1, RunStatus.RUNNING);
            awaitStatus(held2, RunStatus.RUNNING);

            WorkerInfo draining = client.drainWorker(p.workerId());
            assertThat(draining.state()).isEqualTo(WorkerInfo.State.DRAINING);
            assertThat(draining.inFlight()).isEqualTo(2);
            assertThat(draining.drained()).isFalse();
            WorkerInfo listed = find(p.workerId());
            assertThat(listed.state()).isEqualTo(WorkerInfo.State.DRAINING);
            assertThat(listed.labels()).isEqualTo(Map.of("pool", "a"));
            assertThat(listed.slots()).isEqualTo(4);
            assertThat(listed.usedSlots()).isEqualTo(2);
            assertThat(listed.alive()).isTrue();

            // The draining worker has 2 free slots and is the only one: new work waits.
            RunHandle waiting = client.run("aff-pause", Map.of());
            Thread.sleep(600);
            assertThat(waiting.status().status()).isEqualTo(RunStatus.QUEUED);

            try (Worker q = client.newWorker("aff-pause-q").register(new Pausable()).slots(4).start()) {
                // Everything new goes to q (including runs that could go straight to a worker at trigger time).
                List<RunHandle> quick = new ArrayList<>();
                quick.add(waiting);
                for (int i = 0; i < 10; i++) quick.add(client.run("aff-pause", Map.of()));
                for (RunHandle h : quick) {
                    RunInfo r = h.await(Duration.ofSeconds(10));
                    assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
                    assertThat(step(r, "work").workerId()).isEqualTo(q.workerId());
                }

                // The in-flight work finishes on p, which then reports drained.
                releases.computeIfAbsent("d1", k -> new CountDownLatch(1)).countDown();
                releases.computeIfAbsent("d2", k -> new CountDownLatch(1)).countDown();
                for (RunHandle h : List.of(held1, held2)) {
                    RunInfo r = h.await(Duration.ofSeconds(10));
                    assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
                    assertThat(step(r, "work").workerId()).isEqualTo(p.workerId());
                }
                WorkerInfo drained = client.drainWorker(p.workerId(), Duration.ofSeconds(10));
                assertThat(drained.drained()).isTrue();
                assertThat(drained.inFlight()).isZero();

                // The state is stored: a re-registration of the same worker id (a reconnect, maybe to another
                // replica) keeps it.
                reRegister(p.workerId(), "aff-pause-p", Map.of("pool", "a"));
                assertThat(find(p.workerId()).state()).isEqualTo(WorkerInfo.State.DRAINING);

                // Pause q over HTTP, resume p: the work goes to p again.
                assertThat(http("POST", "/api/v1/workers/" + q.workerId() + "/pause")).contains("\"state\":\"paused\"");
                assertThat(find(q.workerId()).state()).isEqualTo(WorkerInfo.State.PAUSED);
                assertThat(client.resumeWorker(p.workerId()).state()).isEqualTo(WorkerInfo.State.ACTIVE);
                for (int i = 0; i < 10; i++) {
                    RunInfo r = client.run("aff-pause", Map.of()).await(Duration.ofSeconds(10));
                    assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
                    assertThat(step(r, "work").workerId()).isEqualTo(p.workerId());
                }
                String list = http("GET", "/api/v1/workers");
                assertThat(list).contains(p.workerId()).contains(q.workerId());
                assertThat(client.pauseWorker(p.workerId()).state()).isEqualTo(WorkerInfo.State.PAUSED);
                assertThat(client.resumeWorker(q.workerId()).state()).isEqualTo(WorkerInfo.State.ACTIVE);
                RunInfo r = client.run("aff-pause", Map.of()).await(Duration.ofSeconds(10));
                assertThat(step(r, "work").workerId()).isEqualTo(q.workerId());
            }
        }
    }

    // ---- slot cost ------------------------------------------------------------------------------------

    static final AtomicInteger heavyRunning = new AtomicInteger();
    static final AtomicInteger heavyMax = new AtomicInteger();

    @Workflow(name = "aff-heavy", version = "1")
    public static class Heavy {
        @Step(slots = 4, executionTimeout = "60s")
        public String work(Map<String, String> in) throws InterruptedException {
            heavyMax.accumulateAndGet(heavyRunning.incrementAndGet(), Math::max);
            try {
                String hold = in.get("hold");
                if (hold != null) releases.computeIfAbsent(hold, k -> new CountDownLatch(1)).await(30, TimeUnit.SECONDS);
                Thread.sleep(50);
                return "ok";
            } finally {
                heavyRunning.decrementAndGet();
            }
        }
    }

    @Test
    void aFourSlotStepTakesAllFourSlotsOfAWorker() throws Exception {
        try (Worker w = client.newWorker("aff-heavy").register(new Heavy()).slots(4).start()) {
            RunHandle held = client.run("aff-heavy", Map.of("hold", "heavy"));
            awaitStatus(held, RunStatus.RUNNING);
            List<RunHandle> more = new ArrayList<>();
            for (int i = 0; i < 5; i++) more.add(client.run("aff-heavy", Map.of()));
            Thread.sleep(400);
            WorkerInfo info = find(w.workerId());
            assertThat(info.usedSlots()).isEqualTo(4);
            assertThat(info.inFlight()).isEqualTo(1);
            for (RunHandle h : more) assertThat(h.status().status()).isEqualTo(RunStatus.QUEUED);
            releases.computeIfAbsent("heavy", k -> new CountDownLatch(1)).countDown();
            for (RunHandle h : more) assertThat(h.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
            assertThat(held.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
            assertThat(heavyMax.get()).isEqualTo(1);
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------------

    static StepInfo step(RunInfo r, String name) {
        return r.steps().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    static WorkerInfo find(String workerId) {
        return client.listWorkers().stream().filter(w -> w.id().equals(workerId)).findFirst().orElseThrow();
    }

    static void awaitStatus(RunHandle h, RunStatus status) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (h.status().status() != status) {
            assertThat(System.nanoTime()).as("run reaches %s", status).isLessThan(until);
            Thread.sleep(20);
        }
    }

    /** What a worker does when it reconnects: Register again with its previous id. */
    static void reRegister(String workerId, String name, Map<String, String> labels) {
        var t = new dev.drover.sdk.internal.Transport("127.0.0.1:" + TestServer.shared().grpcPort(), TestServer.TOKEN,
                Duration.ofSeconds(10));
        try {
            var resp = t.workers().register(dev.drover.proto.v1.RegisterRequest.newBuilder().setWorkerName(name)
                    .addWorkflows(dev.drover.sdk.internal.Definitions.fromClass(Pausable.class).toProto())
                    .setSlots(4).putAllLabels(labels).setPreviousWorkerId(workerId).setSdk("test").build());
            assertThat(resp.getWorkerId()).isEqualTo(workerId);
        } finally {
            t.close();
        }
    }

    static String http(String method, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + TestServer.shared().httpPort() + path))
                .header("Authorization", "Bearer " + TestServer.TOKEN)
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> resp = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
        assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
        return resp.body();
    }

    @BeforeAll
    static void start() {
        client = TestServer.client();
    }

    @AfterAll
    static void stop() {
        releases.values().forEach(CountDownLatch::countDown);
        client.close();
    }
}
