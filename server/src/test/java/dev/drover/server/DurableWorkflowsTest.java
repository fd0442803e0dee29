package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.NonRetryableException;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.StepFailure;
import dev.drover.sdk.StepStatus;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Durable workflows end to end: child runs, durable sleep holding no slot, on-failure steps and
 * replay, on a real server with a real worker.
 */
class DurableWorkflowsTest {
    static DroverClient client;
    static Worker worker;

    // ---- child runs ----------------------------------------------------------------------------

    @Workflow(name = "durable-square", version = "1")
    public static class Square {
        @Step
        public int square(Map<String, Integer> in) {
            return in.get("n") * in.get("n");
        }
    }

    @Workflow(name = "durable-fan-out", version = "1")
    public static class FanOut {
        @Step(executionTimeout = "120s")
        public long fan(Map<String, Integer> in, StepContext ctx) {
            List<Map<String, Integer>> inputs = IntStream.range(0, in.get("children")).mapToObj(i -> Map.of("n", i)).toList();
            List<RunHandle> kids = ctx.spawnMany("durable-square", inputs);
            long sum = 0;
            for (RunHandle k : kids) sum += k.result(Integer.class).join();
            return sum;
        }
    }

    static final Set<String> spawnedIds = ConcurrentHashMap.newKeySet();
    static final AtomicInteger spawnAttempts = new AtomicInteger();

    /** Attempt 1 spawns half its children and dies; attempt 2 spawns them all. */
    @Workflow(name = "durable-crashy-parent", version = "1")
    public static class CrashyParent {
        @Step(maxAttempts = 2, initialBackoff = "100ms")
        public int spawn(StepContext ctx) {
            int n = ctx.attempt() == 1 ? 50 : 100;
            spawnAttempts.incrementAndGet();
            for (RunHandle h : ctx.spawnMany("durable-square", IntStream.range(0, n).mapToObj(i -> Map.of("n", i)).toList())) {
                spawnedIds.add(h.runId());
            }
            if (ctx.attempt() == 1) throw new IllegalStateException("worker died mid-spawn");
            return n;
        }
    }

    @Test
    void aParentFansOutAThousandChildrenAndAwaitsThem() {
        RunInfo run = client.run("durable-fan-out", Map.of("children", 1000)).await(Duration.ofSeconds(120));
        assertThat(run.status()).isEqualTo(RunStatus.SUCCEEDED);
        long expected = 0;
        for (long i = 0; i < 1000; i++) expected += i * i;
        assertThat(run.output(Long.class)).isEqualTo(expected);
    }

    @Test
    void aRetriedParentDoesNotSpawnItsChildrenTwice() {
        RunInfo run = client.run("durable-crashy-parent", Map.of()).await(Duration.ofSeconds(60));
        assertThat(run.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(spawnAttempts.get()).isEqualTo(2);
        // 50 from the first attempt + 100 from the second, yet only 100 distinct children exist.
        assertThat(spawnedIds).hasSize(100);
        RunInfo child = client.getRun(spawnedIds.iterator().next());
        assertThat(child.parentRunId()).isEqualTo(run.id());
    }

    @Workflow(name = "durable-sleepy-child", version = "1")
    public static class SleepyChild {
        @Step(sleep = "60s")
        public String late() {
            return "too late";
        }
    }

    @Workflow(name = "durable-parent-of-sleeper", version = "1")
    public static class ParentOfSleeper {
        @Step
        public String spawn(StepContext ctx) {
            return ctx.spawn("durable-sleepy-child", Map.of()).runId();
        }

        @Step(parents = "spawn", sleep = "60s")
        public String never() {
            return "never";
        }
    }

    @Test
    void cancellingAParentCancelsItsChildren() throws Exception {
        RunHandle parent = client.run("durable-parent-of-sleeper", Map.of());
        String childId = awaitStep(parent.runId(), "never", StepStatus.WAITING).step("spawn").outputJson().replace("\"", "");
        assertThat(client.getRun(childId).status()).isIn(RunStatus.QUEUED, RunStatus.RUNNING);
        assertThat(client.cancel(parent.runId())).isTrue();
        assertThat(client.getRun(childId).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(client.getRun(parent.runId()).step("never").status()).isEqualTo(StepStatus.CANCELLED);
    }

    // ---- durable sleep ---------------------------------------------------------------------------

    @Workflow(name = "durable-nap", version = "1")
    public static class Nap {
        @Step(sleep = "2s")
        public long wake(StepContext ctx) {
            return System.currentTimeMillis();
        }
    }

    @Workflow(name = "durable-quick", version = "1")
    public static class Quick {
        @Step
        public long now() {
            return System.currentTimeMillis();
        }
    }

    @Test
    void aSleepingStepHoldsNoSlot() {
        // The worker of this class has ONE slot: the quick run can only finish first if the nap holds none.
        long t0 = System.currentTimeMillis();
        RunHandle nap = client.run("durable-nap", Map.of());
        RunInfo quick = client.run("durable-quick", Map.of()).await(Duration.ofSeconds(10));
        assertThat(quick.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(client.getRun(nap.runId()).step("wake").status()).isEqualTo(StepStatus.WAITING);
        RunInfo napped = nap.await(Duration.ofSeconds(20));
        assertThat(napped.status()).isEqualTo(RunStatus.SUCCEEDED);
        long woke = napped.output(Long.class);
        assertThat(woke - t0).isGreaterThanOrEqualTo(2000);
        assertThat(quick.output(Long.class)).isLessThan(woke);
    }

    // ---- on-failure ------------------------------------------------------------------------------

    static final List<StepFailure> failures = new CopyOnWriteArrayList<>();

    @Workflow(name = "durable-on-failure", version = "1")
    public static class WithOnFailure {
        @Step(maxAttempts = 2, initialBackoff = "50ms")
        public void charge(StepContext ctx) {
            throw new IllegalStateException("card declined");
        }

        @Step(parents = "charge")
        public void ship() {}

        @Step(onFailure = true)
        public String alert(StepContext ctx) {
            failures.add(ctx.failure());
            return "paged";
        }
    }

    @Test
    void aFailedRunRunsItsOnFailureStepWithTheFailure() throws Exception {
        RunHandle h = client.run("durable-on-failure", Map.of());
        RunInfo run = h.await(Duration.ofSeconds(20));
        assertThat(run.status()).isEqualTo(RunStatus.FAILED);
        RunInfo after = awaitStep(h.runId(), "alert", StepStatus.SUCCEEDED);
        assertThat(after.status()).isEqualTo(RunStatus.FAILED);
        assertThat(after.step("ship").status()).isEqualTo(StepStatus.CANCELLED);
        assertThat(after.step("alert").outputJson()).isEqualTo("\"paged\"");
        assertThat(failures).hasSize(1);
        assertThat(failures.get(0).failedStep()).isEqualTo("charge");
        assertThat(failures.get(0).error()).contains("card declined");
        assertThat(failures.get(0).attempts()).isEqualTo(2);
    }

    // ---- replay ----------------------------------------------------------------------------------

    static final Map<String, AtomicInteger> executions = new ConcurrentHashMap<>();
    static final AtomicBoolean upstreamBroken = new AtomicBoolean(true);

    @Workflow(name = "durable-replay", version = "1")
    public static class Replayable {
        @Step
        public int fetch() {
            executions.computeIfAbsent("fetch", k -> new AtomicInteger()).incrementAndGet();
            return 21;
        }

        @Step(parents = "fetch")
        public int transform(StepContext ctx) {
            executions.computeIfAbsent("transform", k -> new AtomicInteger()).incrementAndGet();
            if (upstreamBroken.get()) throw new NonRetryableException("upstream broken");
            return ctx.parentOutput("fetch", Integer.class) * 2;
        }

        @Step(parents = "transform")
        public int store(StepContext ctx) {
            executions.computeIfAbsent("store", k -> new AtomicInteger()).incrementAndGet();
            return ctx.parentOutput("transform", Integer.class);
        }
    }

    @Test
    void replayFromTheFailedStepRerunsOnlyItAndItsDescendants() {
        RunHandle h = client.run("durable-replay", Map.of());
        assertThat(h.await(Duration.ofSeconds(20)).status()).isEqualTo(RunStatus.FAILED);
        assertThat(executions.get("store")).isNull();

        assertThatThrownBy(() -> client.replay(h.runId(), "store"))
                .isInstanceOf(DroverException.class).hasMessageContaining("replay from 'transform'");
        assertThatThrownBy(() -> client.replay(h.runId(), "nope"))
                .isInstanceOf(DroverException.class).hasMessageContaining("from_step");

        upstreamBroken.set(false);
        client.replay(h.runId(), "transform");
        RunInfo run = client.awaitRun(h.runId(), Duration.ofSeconds(20));
        assertThat(run.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(run.output(Integer.class)).isEqualTo(42);
        assertThat(executions.get("fetch").get()).isEqualTo(1);
        assertThat(executions.get("transform").get()).isEqualTo(2);
        assertThat(executions.get("store").get()).isEqualTo(1);
        assertThat(run.step("transform").attempts()).isEqualTo(2); // the history goes on

        // From the start: everything again.
        client.replay(h.runId(), null);
        assertThat(client.awaitRun(h.runId(), Duration.ofSeconds(20)).status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(executions.get("fetch").get()).isEqualTo(2);
        assertThat(executions.get("store").get()).isEqualTo(2);

        // A running run cannot be replayed; a filter replays matching finished runs.
        List<String> replayed = client.replayMatching("durable-replay", RunStatus.SUCCEEDED, null, null, Map.of(), null, 10);
        assertThat(replayed).contains(h.runId());
        assertThat(client.awaitRun(h.runId(), Duration.ofSeconds(20)).status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(executions.get("fetch").get()).isEqualTo(3);
    }

    // ---- restart -----------------------------------------------------------------------------------

    @Test
    void aSleepSurvivesAServerRestart() {
        Path dir = TestServer.tempDir("drover-durable-restart-");
        String runId;
        try (DroverServer s1 = TestServer.start(dir); DroverClient c1 = TestServer.client(s1.grpcPort())) {
            Worker w = c1.newWorker("restart-worker").register(new Nap()).slots(2).start();
            runId = c1.run("durable-nap", Map.of()).runId();
            assertThat(c1.getRun(runId).step("wake").status()).isEqualTo(StepStatus.WAITING);
            w.close();
        }
        try (DroverServer s2 = TestServer.start(dir); DroverClient c2 = TestServer.client(s2.grpcPort())) {
            assertThat(c2.getRun(runId).step("wake").status()).isIn(StepStatus.WAITING, StepStatus.QUEUED);
            try (Worker w = c2.newWorker("restart-worker-2").register(new Nap()).slots(2).start()) {
                RunInfo run = c2.awaitRun(runId, Duration.ofSeconds(20));
                assertThat(run.status()).isEqualTo(RunStatus.SUCCEEDED);
            }
        }
    }

    // ---- plumbing ----------------------------------------------------------------------------------

    static RunInfo awaitStep(String runId, String step, StepStatus status) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        RunInfo r;
        do {
            r = client.getRun(runId);
            if (r.step(step) != null && r.step(step).status() == status) return r;
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("step " + step + " of " + runId + " never became " + status + ": " + r);
    }

    static Worker fanOutWorker;

    @BeforeAll
    static void start() {
        client = TestServer.client();
        // One slot for the slot test's workflows; the fan-out gets its own roomy worker.
        worker = client.newWorker("durable-one-slot").register(new Nap()).register(new Quick()).slots(1).start();
        fanOutWorker = client.newWorker("durable-many").register(new Square()).register(new FanOut())
                .register(new CrashyParent()).register(new SleepyChild()).register(new ParentOfSleeper())
                .register(new WithOnFailure()).register(new Replayable()).slots(32).start();
    }

    @AfterAll
    static void stop() {
        worker.close();
        fanOutWorker.close();
        client.close();
    }
}
