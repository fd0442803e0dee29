package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.NonRetryableException;
import dev.drover.sdk.RunFailedException;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.StepStatus;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a user does with Drover, end to end: a real server on embedded PostgreSQL, a real SDK worker
 * over gRPC on loopback, runs triggered through the SDK client.
 */
class WorkflowEndToEndTest {
    static DroverClient client;
    static Worker worker;

    public record Order(String id, int amount) {}
    public record Charged(String orderId, int cents) {}
    public record Reserved(String orderId, int items) {}
    public record Shipped(String orderId, int cents, int items) {}

    @Workflow(name = "e2e-diamond", version = "1")
    public static class Diamond {
        @Step(name = "validate")
        public Order validate(Order in, StepContext ctx) {
            return new Order(in.id(), in.amount() * 100);
        }

        @Step(name = "charge", parents = "validate")
        public Charged charge(StepContext ctx) {
            Order o = ctx.parentOutput("validate", Order.class);
            return new Charged(o.id(), o.amount());
        }

        @Step(name = "reserve", parents = "validate")
        public Reserved reserve(StepContext ctx) {
            return new Reserved(ctx.parentOutput("validate", Order.class).id(), 3);
        }

        @Step(name = "ship", parents = {"charge", "reserve"})
        public Shipped ship(StepContext ctx) {
            Charged c = ctx.parentOutput("charge", Charged.class);
            Reserved r = ctx.parentOutput("reserve", Reserved.class);
            return new Shipped(c.orderId(), c.cents(), r.items());
        }
    }

    static final AtomicInteger flakyCalls = new AtomicInteger();
    static final List<Instant> flakyTimes = new CopyOnWriteArrayList<>();

    @Workflow(name = "e2e-flaky", version = "1")
    public static class Flaky {
        @Step(name = "call", maxAttempts = 5, initialBackoff = "200ms", backoffMultiplier = 2.0)
        public String call(StepContext ctx) {
            flakyTimes.add(Instant.now());
            if (flakyCalls.incrementAndGet() <= 2) throw new IllegalStateException("carrier API down");
            return "ok on attempt " + ctx.attempt();
        }
    }

    static final AtomicInteger fatalCalls = new AtomicInteger();

    @Workflow(name = "e2e-fatal", version = "1")
    public static class Fatal {
        @Step(name = "check", maxAttempts = 5)
        public String check() {
            fatalCalls.incrementAndGet();
            throw new NonRetryableException("card declined");
        }

        @Step(name = "after", parents = "check")
        public String after() {
            return "never";
        }
    }

    static final AtomicInteger slowCalls = new AtomicInteger();
    static final AtomicBoolean slowSawInterrupt = new AtomicBoolean();

    @Workflow(name = "e2e-timeout", version = "1")
    public static class Timeout {
        @Step(name = "slow", maxAttempts = 3, initialBackoff = "100ms", executionTimeout = "1s")
        public String slow(StepContext ctx) throws InterruptedException {
            if (slowCalls.incrementAndGet() == 1) {
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    slowSawInterrupt.set(true);
                    throw e;
                }
            }
            return "fast this time";
        }
    }

    static final CountDownLatch longStarted = new CountDownLatch(1);
    static final AtomicBoolean longSawCancel = new AtomicBoolean();
    static final AtomicInteger afterLongCalls = new AtomicInteger();

    @Workflow(name = "e2e-cancel", version = "1")
    public static class Cancellable {
        @Step(name = "long")
        public String longStep(StepContext ctx) {
            longStarted.countDown();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                longSawCancel.set(ctx.isCancelled());
            }
            return "done";
        }

        @Step(name = "after", parents = "long")
        public String after() {
            afterLongCalls.incrementAndGet();
            return "after";
        }
    }

    static final CountDownLatch holdStarted = new CountDownLatch(1);
    static final CountDownLatch holdRelease = new CountDownLatch(1);

    @Workflow(name = "e2e-hold", version = "1")
    public static class Hold {
        @Step(name = "hold")
        public String hold() throws InterruptedException {
            holdStarted.countDown();
            holdRelease.await(30, TimeUnit.SECONDS);
            return "released";
        }
    }

    @Workflow(name = "e2e-echo", version = "1")
    public static class Echo {
        @Step(name = "echo")
        public Map<String, Object> echo(Map<String, Object> in, StepContext ctx) {
            return Map.of("in", in, "metadata", ctx.metadata());
        }
    }

    @BeforeAll
    static void start() {
        client = TestServer.client();
        worker = client.newWorker("e2e-worker")
                .register(new Diamond()).register(new Flaky()).register(new Fatal())
                .register(new Timeout()).register(new Cancellable()).register(new Echo()).register(new Hold())
                .slots(20).start();
    }

    @AfterAll
    static void stop() {
        worker.close(Duration.ofSeconds(5));
        client.close();
    }

    @Test
    void a_four_step_dag_runs_and_passes_outputs_along() throws Exception {
        RunHandle run = client.run(Diamond.class, new Order("o-1", 42));
        Shipped shipped = run.result(Shipped.class).get(30, TimeUnit.SECONDS);

        assertThat(shipped).isEqualTo(new Shipped("o-1", 4200, 3));
        RunInfo info = client.getRun(run.runId());
        assertThat(info.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(info.steps()).extracting(s -> s.name()).containsExactlyInAnyOrder("validate", "charge", "reserve", "ship");
        assertThat(info.steps()).allSatisfy(s -> {
            assertThat(s.status()).isEqualTo(StepStatus.SUCCEEDED);
            assertThat(s.attempts()).isEqualTo(1);
        });
        assertThat(info.step("ship").parents()).containsExactlyInAnyOrder("charge", "reserve");
        // the join starts only after both parents finished
        assertThat(info.step("ship").startedAt()).isAfterOrEqualTo(info.step("charge").finishedAt());
        assertThat(info.step("ship").startedAt()).isAfterOrEqualTo(info.step("reserve").finishedAt());
    }

    @Test
    void a_run_shows_running_with_its_worker_while_its_step_runs() throws Exception {
        // The claim writes only the task row; what people read must still say running, and by whom.
        RunHandle run = client.run(Hold.class, Map.of());
        assertThat(holdStarted.await(30, TimeUnit.SECONDS)).isTrue();
        RunInfo during = client.getRun(run.runId());
        assertThat(during.status()).isEqualTo(RunStatus.RUNNING);
        assertThat(during.startedAt()).isNotNull();
        assertThat(during.step("hold").status()).isEqualTo(StepStatus.RUNNING);
        assertThat(during.step("hold").attempts()).isEqualTo(1);
        assertThat(during.step("hold").workerId()).isEqualTo(worker.workerId());
        assertThat(during.step("hold").startedAt()).isNotNull();
        assertThat(client.listRuns("e2e-hold", RunStatus.RUNNING, 10)).extracting(RunInfo::id).contains(run.runId());
        assertThat(client.listRuns("e2e-hold", RunStatus.QUEUED, 10)).extracting(RunInfo::id).doesNotContain(run.runId());

        holdRelease.countDown();
        assertThat(run.result(String.class).get(30, TimeUnit.SECONDS)).isEqualTo("released");
        RunInfo after = client.getRun(run.runId());
        assertThat(after.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(after.startedAt()).isEqualTo(during.startedAt());
        assertThat(after.step("hold").workerId()).isEqualTo(worker.workerId());
        assertThat(after.step("hold").attempts()).isEqualTo(1);
        assertThat(after.step("hold").startedAt()).isEqualTo(during.step("hold").startedAt());
    }

    @Test
    void a_step_that_fails_twice_is_retried_with_backoff_then_succeeds() throws Exception {
        RunHandle run = client.run(Flaky.class, Map.of());
        String result = run.result(String.class).get(30, TimeUnit.SECONDS);

        assertThat(result).isEqualTo("ok on attempt 3");
        assertThat(flakyCalls.get()).isEqualTo(3);
        RunInfo info = client.getRun(run.runId());
        assertThat(info.step("call").attempts()).isEqualTo(3);
        // backoff ceilings are 200 ms then 400 ms, with jitter down to half of each
        assertThat(Duration.between(flakyTimes.get(0), flakyTimes.get(1))).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        assertThat(Duration.between(flakyTimes.get(1), flakyTimes.get(2))).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    }

    @Test
    void a_non_retryable_error_fails_the_run_at_once_and_children_never_start() {
        RunHandle run = client.run(Fatal.class, Map.of());
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> run.result(String.class).get(30, TimeUnit.SECONDS));

        assertThat(e.getCause()).isInstanceOf(RunFailedException.class).hasMessageContaining("card declined");
        assertThat(fatalCalls.get()).isEqualTo(1);
        RunInfo info = client.getRun(run.runId());
        assertThat(info.status()).isEqualTo(RunStatus.FAILED);
        assertThat(info.error()).startsWith("check: ").contains("card declined");
        assertThat(info.step("check").status()).isEqualTo(StepStatus.FAILED);
        assertThat(info.step("check").attempts()).isEqualTo(1);
        assertThat(info.step("after").status()).isEqualTo(StepStatus.CANCELLED);
        assertThat(info.step("after").attempts()).isZero();
    }

    @Test
    void a_step_over_its_execution_timeout_is_cancelled_and_retried() throws Exception {
        RunHandle run = client.run(Timeout.class, Map.of());
        String result = run.result(String.class).get(30, TimeUnit.SECONDS);

        assertThat(result).isEqualTo("fast this time");
        assertThat(slowSawInterrupt).isTrue();
        RunInfo info = client.getRun(run.runId());
        assertThat(info.step("slow").attempts()).isEqualTo(2);
    }

    @Test
    void a_single_step_runs_success_is_recorded_on_its_step_and_its_run() {
        // Single-step runs take the one-statement completion path (StepReports.completeSingleSteps).
        var before = TestServer.shared().engine().stats().snapshot();
        RunHandle run = client.run("e2e-echo", Map.of("k", "v"));
        RunInfo done = run.await(Duration.ofSeconds(30));
        for (int i = 0; i < 2; i++) client.run("e2e-echo", Map.of("i", i)).await(Duration.ofSeconds(30));
        // It did: the path is only taken while the server still holds the task (81aeaea had released it
        // first, and every success took the general transaction).
        var after = TestServer.shared().engine().stats().snapshot();
        assertThat(after.oneStatementReports() - before.oneStatementReports()).isGreaterThanOrEqualTo(3);

        assertThat(done.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(done.output(Map.class)).containsEntry("in", Map.of("k", "v"));
        assertThat(done.startedAt()).isNotNull();
        assertThat(done.finishedAt()).isAfterOrEqualTo(done.startedAt());
        var step = done.step("echo");
        assertThat(step.status()).isEqualTo(StepStatus.SUCCEEDED);
        assertThat(step.attempts()).isEqualTo(1);
        assertThat(step.workerId()).isNotBlank();
        assertThat(step.outputJson()).isEqualTo(done.outputJson());
        assertThat(step.startedAt()).isNotNull();
        assertThat(step.finishedAt()).isAfterOrEqualTo(step.startedAt());
        assertThat(client.listRuns("e2e-echo", RunStatus.SUCCEEDED, 1000)).extracting(RunInfo::id).contains(run.runId());
    }

    @Test
    void a_trigger_sent_again_with_its_run_id_gives_the_same_run_once() {
        // What the SDK does when it retries a trigger whose answer was lost: the same client-chosen id.
        try (Raw raw = raw()) {
            var stub = raw.stub();
            String id = java.util.UUID.randomUUID().toString();
            var req = dev.drover.proto.v1.TriggerRunRequest.newBuilder().setWorkflowName("e2e-echo")
                    .setInputJson("{\"n\": 7}").setRunId(id).build();
            var first = stub.triggerRun(req);
            var second = stub.triggerRun(req);

            assertThat(first.getRunId()).isEqualTo(id);
            assertThat(first.getCreated()).isTrue();
            assertThat(second.getRunId()).isEqualTo(id);
            assertThat(second.getCreated()).isFalse();
            RunInfo done = client.awaitRun(id, Duration.ofSeconds(30));
            assertThat(done.status()).isEqualTo(RunStatus.SUCCEEDED);
            assertThat(done.steps()).hasSize(1);
            assertThat(done.steps().get(0).attempts()).isEqualTo(1);
        }
    }

    @Test
    void independent_items_of_one_trigger_runs_call_each_get_their_own_answer() {
        // What the SDK sends for concurrent single triggers: items that merely share a message. Bad items
        // fail alone with the error their single call would get; the others are stored and run; an id
        // sent twice in the same call is one run, created once.
        try (Raw raw = raw()) {
            var stub = raw.stub();
            String id = java.util.UUID.randomUUID().toString();
            var ok = dev.drover.proto.v1.TriggerRunRequest.newBuilder().setWorkflowName("e2e-echo").setInputJson("{\"n\": 1}");
            var res = stub.triggerRuns(dev.drover.proto.v1.TriggerRunsRequest.newBuilder().setIndependent(true)
                    .addRuns(ok.build())
                    .addRuns(ok.clone().setInputJson("{not json"))
                    .addRuns(ok.clone().setWorkflowName("no-such-workflow"))
                    .addRuns(ok.clone().setRunId(id))
                    .addRuns(ok.clone().setPriority(9))
                    .addRuns(ok.clone().setRunId(id))
                    .addRuns(ok.clone().setParentStep("orphan"))
                    .build()).getRunsList();

            assertThat(res).hasSize(7);
            assertThat(res.get(0).hasError()).isFalse();
            assertThat(res.get(0).getCreated()).isTrue();
            assertThat(res.get(1).getError().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT.value());
            assertThat(res.get(1).getError().getMessage()).startsWith("input_json: not valid JSON");
            assertThat(res.get(1).getRunId()).isEmpty();
            assertThat(res.get(2).getError().getCode()).isEqualTo(io.grpc.Status.Code.NOT_FOUND.value());
            assertThat(res.get(2).getError().getMessage()).contains("no-such-workflow");
            assertThat(res.get(4).getError().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT.value());
            assertThat(res.get(4).getError().getMessage()).startsWith("priority:");
            assertThat(res.get(6).getError().getMessage()).startsWith("parent_step:");
            // The same id twice: both answered with it, exactly one of them created it.
            assertThat(res.get(3).hasError()).isFalse();
            assertThat(res.get(5).hasError()).isFalse();
            assertThat(res.get(3).getRunId()).isEqualTo(id);
            assertThat(res.get(5).getRunId()).isEqualTo(id);
            assertThat(res.get(3).getCreated() ^ res.get(5).getCreated()).isTrue();

            assertThat(client.awaitRun(res.get(0).getRunId(), Duration.ofSeconds(30)).status()).isEqualTo(RunStatus.SUCCEEDED);
            RunInfo done = client.awaitRun(id, Duration.ofSeconds(30));
            assertThat(done.status()).isEqualTo(RunStatus.SUCCEEDED);
            assertThat(done.steps().get(0).attempts()).isEqualTo(1);

            // Without the flag the same batch is all or none: nothing is stored.
            String other = java.util.UUID.randomUUID().toString();
            assertThatThrownBy(() -> stub.triggerRuns(dev.drover.proto.v1.TriggerRunsRequest.newBuilder()
                    .addRuns(ok.clone().setRunId(other)).addRuns(ok.clone().setInputJson("{not json")).build()))
                    .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).startsWith("runs[1].input_json");
                    });
            assertThatThrownBy(() -> client.getRun(other)).isInstanceOf(dev.drover.sdk.DroverException.class);
        }
    }

    @Test
    void the_same_idempotency_key_twice_gives_one_run() {
        RunOptions opts = RunOptions.defaults().withIdempotencyKey("order-77-charge");
        RunHandle first = client.run("e2e-echo", Map.of("n", 1), opts);
        RunHandle second = client.run("e2e-echo", Map.of("n", 2), opts);

        assertThat(first.created()).isTrue();
        assertThat(second.created()).isFalse();
        assertThat(second.runId()).isEqualTo(first.runId());
        assertThat(client.listRuns("e2e-echo", null, 100)).filteredOn(r -> r.id().equals(first.runId())).hasSize(1);
        RunInfo done = first.await(Duration.ofSeconds(30));
        assertThat(done.output(Map.class)).containsEntry("in", Map.of("n", 1));
    }

    @Test
    void metadata_travels_with_the_run_to_the_step() throws Exception {
        RunHandle run = client.run("e2e-echo", Map.of("x", "y"), RunOptions.defaults().withMetadata(Map.of("tenant", "acme")));
        RunInfo done = run.await(Duration.ofSeconds(30));

        assertThat(done.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(done.metadata()).containsEntry("tenant", "acme");
        assertThat(done.output(Map.class))
                .containsEntry("metadata", Map.of("tenant", "acme"))
                .containsEntry("in", Map.of("x", "y"));
    }

    @Test
    void cancelling_a_running_run_stops_its_step_and_starts_no_children() throws Exception {
        RunHandle run = client.run(Cancellable.class, Map.of());
        assertThat(longStarted.await(30, TimeUnit.SECONDS)).isTrue();

        assertThat(client.cancel(run.runId())).isTrue();

        RunInfo info = run.await(Duration.ofSeconds(10));
        assertThat(info.status()).isEqualTo(RunStatus.CANCELLED);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!longSawCancel.get() && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(longSawCancel).as("the step saw the cancellation flag when interrupted").isTrue();
        assertThat(info.step("long").status()).isEqualTo(StepStatus.CANCELLED);
        assertThat(info.step("after").status()).isEqualTo(StepStatus.CANCELLED);
        Thread.sleep(300);
        assertThat(afterLongCalls.get()).isZero();
        assertThat(client.cancel(run.runId())).as("cancelling a finished run changes nothing").isFalse();
    }

    /** A plain gRPC channel to the shared server with the token: what a client without the SDK sends. */
    private record Raw(io.grpc.ManagedChannel channel, dev.drover.proto.v1.RunServiceGrpc.RunServiceBlockingStub stub)
            implements AutoCloseable {
        @Override
        public void close() {
            channel.shutdownNow();
        }
    }

    private static Raw raw() {
        var channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forAddress("127.0.0.1", TestServer.shared().grpcPort()).usePlaintext().build();
        var md = new io.grpc.Metadata();
        md.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TestServer.TOKEN);
        return new Raw(channel, dev.drover.proto.v1.RunServiceGrpc.newBlockingStub(channel)
                .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(md)));
    }
}
