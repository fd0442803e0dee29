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

    // ---- wait for event ----------------------------------------------------------------------------

    public record Payment(String orderId, int cents) {}

    @Workflow(name = "durable-await-payment", version = "1")
    public static class AwaitPayment {
        @Step(waitForEvent = "durable.payment.confirmed", waitMatch = "event.orderId == input.orderId", waitTimeout = "60s")
        public Payment ship(StepContext ctx) {
            return ctx.event(Payment.class);
        }
    }

    @Workflow(name = "durable-await-short", version = "1")
    public static class AwaitShort {
        @Step(waitForEvent = "durable.never", waitTimeout = "1s")
        public String give() {
            return "unreachable";
        }
    }

    @Workflow(name = "durable-await-or-go-on", version = "1")
    public static class AwaitOrGoOn {
        @Step(waitForEvent = "durable.never", waitTimeout = "1s", onWaitTimeout = Step.WaitTimeout.CONTINUE)
        public String give(StepContext ctx) {
            return ctx.event(Payment.class) == null ? "went on without" : "got one";
        }
    }

    @Test
    void aStepWaitsForItsEventHoldingNoSlotAndIgnoresOthers() throws Exception {
        RunHandle waiting = client.run("durable-await-payment", Map.of("orderId", "A-1"));
        awaitStep(waiting.runId(), "ship", StepStatus.WAITING);
        // The one-slot worker runs other work meanwhile.
        assertThat(client.run("durable-quick", Map.of()).await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
        client.push("durable.payment.confirmed", new Payment("B-2", 100)); // another order's payment
        client.push("durable.payment.other", new Payment("A-1", 100));     // another event
        Thread.sleep(300);
        assertThat(client.getRun(waiting.runId()).step("ship").status()).isEqualTo(StepStatus.WAITING);
        client.push("durable.payment.confirmed", new Payment("A-1", 4200));
        RunInfo run = waiting.await(Duration.ofSeconds(10));
        assertThat(run.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(run.output(Payment.class)).isEqualTo(new Payment("A-1", 4200));
    }

    @Test
    void anEventWaitTimesOutAsDeclared() {
        RunInfo failed = client.run("durable-await-short", Map.of()).await(Duration.ofSeconds(10));
        assertThat(failed.status()).isEqualTo(RunStatus.FAILED);
        assertThat(failed.error()).contains("timed out waiting");
        RunInfo went = client.run("durable-await-or-go-on", Map.of()).await(Duration.ofSeconds(10));
        assertThat(went.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(went.output(String.class)).isEqualTo("went on without");
    }

    // ---- conditional steps -------------------------------------------------------------------------

    public record Check(int amount) {}

    @Workflow(name = "durable-conditional", version = "1")
    public static class Conditional {
        @Step
        public Check check(Check in) {
            return in;
        }

        @Step(parents = "check", skipIf = "parents.check.amount < 100")
        public String review() {
            return "reviewed";
        }

        @Step(parents = "review")
        public String finish(StepContext ctx) {
            return "done after " + ctx.parentOutputs().get("review");
        }
    }

    @Test
    void aStepIsSkippedWhenItsConditionHoldsAndItsChildrenGoOn() {
        RunInfo small = client.run("durable-conditional", new Check(50)).await(Duration.ofSeconds(10));
        assertThat(small.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(small.step("review").status()).isEqualTo(StepStatus.SKIPPED);
        assertThat(small.output(String.class)).isEqualTo("done after null");
        RunInfo big = client.run("durable-conditional", new Check(500)).await(Duration.ofSeconds(10));
        assertThat(big.step("review").status()).isEqualTo(StepStatus.SUCCEEDED);
        assertThat(big.output(String.class)).isEqualTo("done after \"reviewed\"");
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
    void sleepsAndEventWaitsSurviveAServerRestart() {
        Path dir = TestServer.tempDir("drover-durable-restart-");
        String napId, payId;
        try (DroverServer s1 = TestServer.start(dir); DroverClient c1 = TestServer.client(s1.grpcPort())) {
            Worker w = c1.newWorker("restart-worker").register(new Nap()).register(new AwaitPayment()).slots(2).start();
            napId = c1.run("durable-nap", Map.of()).runId();
            payId = c1.run("durable-await-payment", Map.of("orderId", "R-1")).runId();
            assertThat(c1.getRun(napId).step("wake").status()).isEqualTo(StepStatus.WAITING);
            assertThat(c1.getRun(payId).step("ship").status()).isEqualTo(StepStatus.WAITING);
            w.close();
        }
        try (DroverServer s2 = TestServer.start(dir); DroverClient c2 = TestServer.client(s2.grpcPort())) {
            assertThat(c2.getRun(napId).step("wake").status()).isIn(StepStatus.WAITING, StepStatus.QUEUED);
            assertThat(c2.getRun(payId).step("ship").status()).isEqualTo(StepStatus.WAITING);
            try (Worker w = c2.newWorker("restart-worker-2").register(new Nap()).register(new AwaitPayment()).slots(2).start()) {
                assertThat(c2.awaitRun(napId, Duration.ofSeconds(20)).status()).isEqualTo(RunStatus.SUCCEEDED);
                c2.push("durable.payment.confirmed", new Payment("R-1", 1));
                RunInfo paid = c2.awaitRun(payId, Duration.ofSeconds(20));
                assertThat(paid.status()).isEqualTo(RunStatus.SUCCEEDED);
                assertThat(paid.output(Payment.class)).isEqualTo(new Payment("R-1", 1));
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
        worker = client.newWorker("durable-one-slot").register(new Nap()).register(new Quick())
                .register(new AwaitPayment()).slots(1).start();
        fanOutWorker = client.newWorker("durable-many").register(new Square()).register(new FanOut())
                .register(new CrashyParent()).register(new SleepyChild()).register(new ParentOfSleeper())
                .register(new WithOnFailure()).register(new Replayable()).register(new AwaitShort())
                .register(new AwaitOrGoOn()).register(new Conditional()).slots(32).start();
    }

    @AfterAll
    static void stop() {
        worker.close();
        fanOutWorker.close();
        client.close();
    }
}
