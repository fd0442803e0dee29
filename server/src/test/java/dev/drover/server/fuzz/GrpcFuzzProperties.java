package dev.drover.server.fuzz;

import static dev.drover.server.fuzz.FuzzSupport.Expect.EITHER;
import static dev.drover.server.fuzz.FuzzSupport.Expect.INVALID;
import static dev.drover.server.fuzz.FuzzSupport.Expect.VALID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.AwaitRunRequest;
import dev.drover.proto.v1.CancelRunRequest;
import dev.drover.proto.v1.GetRunRequest;
import dev.drover.proto.v1.HeartbeatRequest;
import dev.drover.proto.v1.ListRunsRequest;
import dev.drover.proto.v1.ListRunsResponse;
import dev.drover.proto.v1.ListenRequest;
import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.RegisterRequest;
import dev.drover.proto.v1.RegisterResponse;
import dev.drover.proto.v1.ReportStepEventsRequest;
import dev.drover.proto.v1.ReportStepEventsResponse;
import dev.drover.proto.v1.RetryPolicy;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.StepCompleted;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.StepEvent;
import dev.drover.proto.v1.StepFailed;
import dev.drover.proto.v1.StepStarted;
import dev.drover.proto.v1.TriggerRunRequest;
import dev.drover.proto.v1.TriggerRunResponse;
import dev.drover.proto.v1.TriggerRunsRequest;
import dev.drover.proto.v1.TriggerRunsResponse;
import dev.drover.proto.v1.WorkerServiceGrpc;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.TestServer;
import dev.drover.server.fuzz.FuzzSupport.Expect;
import dev.drover.server.fuzz.FuzzSupport.Gen;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
 * Fuzzes the gRPC API of a real server (issue 6, "Bad input"): no input makes a call fail with
 * INTERNAL, UNKNOWN, DATA_LOSS or (the database being healthy) UNAVAILABLE; every error has a
 * description; an invalid trigger creates no run.
 */
class GrpcFuzzProperties {
    // One workflow per property: jqwik's bounded shrinking may leave one try running in the background
    // when it times out, and that try must not disturb the run counts of the next property.
    static final String WF = "fuzz-grpc-single";
    static final String WF_BATCH = "fuzz-grpc-batch";
    static final String WF_ONEBAD = "fuzz-grpc-onebad";
    static final String WF_BIG = "fuzz-grpc-big";
    static final String WF_GROUP = "fuzz-grpc-group";
    static final Set<Status.Code> FORBIDDEN = Set.of(Status.Code.INTERNAL, Status.Code.UNKNOWN, Status.Code.DATA_LOSS,
            Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED);
    static ManagedChannel channel;
    static String finishedRunId;
    static String registeredWorkerId;

    @BeforeContainer
    static void setUp() {
        FuzzSupport.server();
        channel = FuzzSupport.channel();
        for (String wf : List.of(WF, WF_BATCH, WF_ONEBAD, WF_BIG, WF_GROUP)) FuzzSupport.registerSingleStep(channel, wf);
        finishedRunId = FuzzSupport.runs(channel).triggerRun(TriggerRunRequest.newBuilder().setWorkflowName(WF).build()).getRunId();
        FuzzSupport.runs(channel).cancelRun(CancelRunRequest.newBuilder().setRunId(finishedRunId).build());
        registeredWorkerId = FuzzSupport.workers(channel).register(RegisterRequest.newBuilder().setWorkerName("fuzz-worker")
                .setSlots(1).addWorkflows(WorkflowDefinition.newBuilder().setName("fuzz-grpc-worker-wf").setVersion("1")
                        .addSteps(StepDefinition.newBuilder().setName("s"))).build()).getWorkerId();
    }

    @AfterContainer
    static void tearDown() {
        if (channel != null) channel.shutdownNow();
    }

    /** The outcome of a call: a response, or the status it failed with. */
    record Outcome<T>(T value, Status status) {
        boolean ok() {
            return status == null;
        }

        @Override
        public String toString() {
            if (ok()) return "OK " + abbreviate(String.valueOf(value));
            return status.getCode() + ": " + abbreviate(String.valueOf(status.getDescription()));
        }
    }

    static <T> Outcome<T> call(Supplier<T> rpc) {
        try {
            return new Outcome<>(rpc.get(), null);
        } catch (StatusRuntimeException e) {
            return new Outcome<>(null, e.getStatus());
        }
    }

    static void checkStatus(Outcome<?> o, String ctx) {
        if (o.ok()) return;
        assertThat(o.status().getCode()).as("a bad request must not be answered with this code: %s", ctx).isNotIn(FORBIDDEN);
        assertThat(o.status().getDescription()).as("an error needs a description: %s", ctx).isNotBlank();
    }

    static String abbreviate(String s) {
        if (s == null) return "null";
        s = s.replace("\n", " ");
        return s.length() <= 400 ? s : s.substring(0, 400) + "…(" + s.length() + " chars)";
    }

    static String show(com.google.protobuf.MessageOrBuilder m) {
        return abbreviate(com.google.protobuf.TextFormat.printer().escapingNonAscii(true).shortDebugString(m));
    }

    // ------------------------------------------------------------------------------------------
    // Runs
    // ------------------------------------------------------------------------------------------

    @Property(tries = 300, shrinking = ShrinkingMode.BOUNDED)
    void trigger_run_validates_and_invalid_triggers_create_nothing(@ForAll("triggers") Gen<TriggerRunRequest> req) {
        int before = FuzzSupport.runCount(channel, WF);
        Outcome<TriggerRunResponse> o = call(() -> FuzzSupport.runs(channel).triggerRun(req.value()));
        String ctx = "TriggerRun " + req + "\n  -> " + o;
        checkStatus(o, ctx);
        int delta = FuzzSupport.runCount(channel, WF) - before;
        if (req.expect() == INVALID) assertThat(o.ok()).as("an invalid trigger must fail: %s", ctx).isFalse();
        if (req.expect() == VALID) assertThat(o.ok()).as("a valid trigger must succeed: %s", ctx).isTrue();
        assertThat(delta).as("runs created by %s", ctx).isEqualTo(o.ok() && o.value().getCreated() ? 1 : 0);
    }

    @Property(tries = 60, shrinking = ShrinkingMode.BOUNDED)
    void trigger_runs_is_all_or_nothing(@ForAll("triggerLists") List<Gen<TriggerRunRequest>> items) {
        int before = FuzzSupport.runCount(channel, WF_BATCH);
        TriggerRunsRequest.Builder b = TriggerRunsRequest.newBuilder();
        Expect e = items.isEmpty() ? INVALID : VALID;
        for (Gen<TriggerRunRequest> g : items) {
            b.addRuns(g.value());
            e = e.and(g.expect());
        }
        Outcome<TriggerRunsResponse> o = call(() -> FuzzSupport.runs(channel).triggerRuns(b.build()));
        String ctx = "TriggerRuns " + items + " [" + e + "]\n  -> " + o;
        checkStatus(o, ctx);
        int delta = FuzzSupport.runCount(channel, WF_BATCH) - before;
        if (e == INVALID) assertThat(o.ok()).as("a batch with an invalid item must fail: %s", ctx).isFalse();
        if (e == VALID) assertThat(o.ok()).as("a valid batch must succeed: %s", ctx).isTrue();
        if (o.ok()) {
            assertThat(o.value().getRunsCount()).as(ctx).isEqualTo(items.size());
            Set<String> created = new HashSet<>();
            for (TriggerRunResponse r : o.value().getRunsList()) if (r.getCreated()) created.add(r.getRunId());
            assertThat(delta).as("runs created by %s", ctx).isEqualTo(created.size());
        } else {
            assertThat(delta).as("a failed batch created runs: %s", ctx).isZero();
        }
    }

    @Property(tries = 40, shrinking = ShrinkingMode.BOUNDED)
    void one_bad_item_fails_the_whole_batch_and_is_named(
            @ForAll("validTriggers") List<Gen<TriggerRunRequest>> good, @ForAll("clearlyInvalidTriggers") Gen<TriggerRunRequest> bad,
            @ForAll("indexes") int at) {
        int index = Math.min(at, good.size());
        List<Gen<TriggerRunRequest>> items = new ArrayList<>(good);
        items.add(index, bad);
        int before = FuzzSupport.runCount(channel, WF_ONEBAD);
        TriggerRunsRequest.Builder b = TriggerRunsRequest.newBuilder();
        items.forEach(g -> b.addRuns(g.value()));
        Outcome<TriggerRunsResponse> o = call(() -> FuzzSupport.runs(channel).triggerRuns(b.build()));
        String ctx = "TriggerRuns with bad item at " + index + ": " + items + "\n  -> " + o;
        checkStatus(o, ctx);
        assertThat(o.ok()).as(ctx).isFalse();
        assertThat(o.status().getDescription()).as("the error names the item: %s", ctx).contains("runs[" + index + "]");
        assertThat(FuzzSupport.runCount(channel, WF_ONEBAD) - before).as(ctx).isZero();
    }

    @Example
    void more_than_10000_items_are_refused() {
        int before = FuzzSupport.runCount(channel, WF_BIG);
        TriggerRunsRequest.Builder b = TriggerRunsRequest.newBuilder();
        for (int i = 0; i < 10_001; i++) b.addRuns(TriggerRunRequest.newBuilder().setWorkflowName(WF_BIG).setInputJson("{\"i\":" + i + "}"));
        Outcome<TriggerRunsResponse> o = call(() -> FuzzSupport.runs(channel).triggerRuns(b.build()));
        checkStatus(o, "TriggerRuns of 10001 items -> " + o);
        assertThat(o.ok()).as("TriggerRuns of 10001 items -> %s", o).isFalse();
        assertThat(o.status().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(FuzzSupport.runCount(channel, WF_BIG)).isEqualTo(before);
    }

    /** Triggers are group-committed: one bad trigger must not fail the good ones that share its transaction. */
    @Example
    void a_bad_trigger_does_not_fail_concurrent_good_ones() throws Exception {
        List<TriggerRunRequest> bad = List.of(
                TriggerRunRequest.newBuilder().setWorkflowName(WF_GROUP).setInputJson("{\"a\":\"\\u0000\"}").build(),
                TriggerRunRequest.newBuilder().setWorkflowName(WF_GROUP).putMetadata("k", "nul\u0000").build(),
                TriggerRunRequest.newBuilder().setWorkflowName(WF_GROUP).setIdempotencyKey("nul\u0000" + UUID.randomUUID()).build(),
                TriggerRunRequest.newBuilder().setWorkflowName(WF_GROUP).setInputJson("1e999999").build());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (TriggerRunRequest b : bad) {
                List<Future<Outcome<TriggerRunResponse>>> goods = new ArrayList<>();
                Future<Outcome<TriggerRunResponse>> badCall = null;
                for (int i = 0; i < 40; i++) {
                    if (i == 20) badCall = pool.submit(() -> call(() -> FuzzSupport.runs(channel).triggerRun(b)));
                    goods.add(pool.submit(() -> call(() -> FuzzSupport.runs(channel).triggerRun(
                            TriggerRunRequest.newBuilder().setWorkflowName(WF_GROUP).setInputJson("{\"good\":true}").build()))));
                }
                Outcome<TriggerRunResponse> badOutcome = badCall.get(60, TimeUnit.SECONDS);
                for (Future<Outcome<TriggerRunResponse>> g : goods) {
                    Outcome<TriggerRunResponse> o = g.get(60, TimeUnit.SECONDS);
                    assertThat(o.ok()).as("a good trigger sent alongside %s (which got %s) failed: %s", show(b), badOutcome, o).isTrue();
                }
                checkStatus(badOutcome, "TriggerRun " + show(b) + " -> " + badOutcome);
            }
        }
    }

    @Property(tries = 200, shrinking = ShrinkingMode.BOUNDED)
    void get_await_and_cancel_with_any_id_and_timeout(@ForAll("runIds") String id, @ForAll("timeouts") long timeoutMs,
                                                     @ForAll("runOps") String op) {
        Outcome<?> o = switch (op) {
            case "get" -> call(() -> FuzzSupport.runs(channel).getRun(GetRunRequest.newBuilder().setRunId(id).build()));
            case "await" -> call(() -> FuzzSupport.runs(channel).awaitRun(AwaitRunRequest.newBuilder().setRunId(id).setTimeoutMs(timeoutMs).build()));
            default -> call(() -> FuzzSupport.runs(channel).cancelRun(CancelRunRequest.newBuilder().setRunId(id).build()));
        };
        String ctx = op + "(run_id=" + abbreviate(JsonGen.quote(id)) + (op.equals("await") ? ", timeout_ms=" + timeoutMs : "") + ")\n  -> " + o;
        checkStatus(o, ctx);
    }

    @Property(tries = 200, shrinking = ShrinkingMode.BOUNDED)
    void list_runs_with_any_filter(@ForAll("statusValues") int status, @ForAll("limits") int limit, @ForAll("beforeIds") String beforeId,
                                   @ForAll("listWorkflows") String workflow) {
        ListRunsRequest req = ListRunsRequest.newBuilder().setWorkflowName(workflow).setStatusValue(status).setLimit(limit)
                .setBeforeRunId(beforeId).build();
        Outcome<ListRunsResponse> o = call(() -> FuzzSupport.runs(channel).listRuns(req));
        String ctx = "ListRuns " + show(req) + "\n  -> " + (o.ok() ? "OK, " + o.value().getRunsCount() + " runs" : o.toString());
        checkStatus(o, ctx);
        if (o.ok()) {
            assertThat(o.value().getRunsCount()).as(ctx).isLessThanOrEqualTo(limit == 0 ? 50 : Math.max(0, Math.min(limit, 1000)));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Workflows and workers
    // ------------------------------------------------------------------------------------------

    @Property(tries = 250, shrinking = ShrinkingMode.BOUNDED)
    void put_workflow_validates_definitions(@ForAll("definitions") Gen<WorkflowDefinition> def) {
        Outcome<?> o = call(() -> FuzzSupport.runs(channel).putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(def.value()).build()));
        String ctx = "PutWorkflow " + def + "\n  -> " + o;
        checkStatus(o, ctx);
        if (def.expect() == INVALID) assertThat(o.ok()).as("an invalid definition must be refused: %s", ctx).isFalse();
        if (def.expect() == VALID) assertThat(o.ok()).as("a valid definition must be accepted: %s", ctx).isTrue();
    }

    @Example
    void put_workflow_without_a_workflow_is_invalid() {
        Outcome<?> o = call(() -> FuzzSupport.runs(channel).putWorkflow(PutWorkflowRequest.getDefaultInstance()));
        checkStatus(o, "PutWorkflow {} -> " + o);
        assertThat(o.ok()).isFalse();
    }

    @Property(tries = 200, shrinking = ShrinkingMode.BOUNDED)
    void register_validates_workers(@ForAll("registrations") Gen<RegisterRequest> req) {
        Outcome<RegisterResponse> o = call(() -> FuzzSupport.workers(channel).register(req.value()));
        String ctx = "Register " + req + "\n  -> " + o;
        checkStatus(o, ctx);
        if (req.expect() == INVALID) assertThat(o.ok()).as("an invalid registration must be refused: %s", ctx).isFalse();
        if (req.expect() == VALID) assertThat(o.ok()).as("a valid registration must be accepted: %s", ctx).isTrue();
    }

    @Property(tries = 200, shrinking = ShrinkingMode.BOUNDED)
    void heartbeats_and_reports_from_anyone_are_handled(@ForAll("workerIds") String workerId,
                                                        @ForAll("eventLists") List<Gen<StepEvent>> events, @ForAll boolean heartbeat) {
        String ctx;
        if (heartbeat) {
            var o = call(() -> FuzzSupport.workers(channel).heartbeat(HeartbeatRequest.newBuilder().setWorkerId(workerId).build()));
            ctx = "Heartbeat(worker_id=" + abbreviate(JsonGen.quote(workerId)) + ")\n  -> " + o;
            checkStatus(o, ctx);
        } else {
            ReportStepEventsRequest.Builder b = ReportStepEventsRequest.newBuilder().setWorkerId(workerId);
            Expect e = VALID;
            for (Gen<StepEvent> g : events) {
                b.addEvents(g.value());
                e = e.and(g.expect());
            }
            Outcome<ReportStepEventsResponse> o = call(() -> FuzzSupport.workers(channel).reportStepEvents(b.build()));
            ctx = "ReportStepEvents(worker_id=" + abbreviate(JsonGen.quote(workerId)) + ", events=" + events + ")\n  -> " + o;
            checkStatus(o, ctx);
            if (e == INVALID) assertThat(o.ok()).as("a report with an invalid event must fail: %s", ctx).isFalse();
            if (o.ok()) {
                assertThat(o.value().getAcceptedCount()).as("one answer per event: %s", ctx).isEqualTo(events.size());
                for (int i = 0; i < events.size(); i++) {
                    // No generated task id exists, so only the informational "started" may be accepted.
                    if (events.get(i).value().getKindCase() != StepEvent.KindCase.STARTED) {
                        assertThat(o.value().getAccepted(i)).as("event %s of %s", i, ctx).isFalse();
                    }
                }
            }
        }
    }

    /** Fencing: a step attempt belongs to the worker it was assigned to; another worker id cannot finish it. */
    @Example
    void a_report_from_a_worker_that_does_not_hold_the_attempt_is_refused() throws Exception {
        String wf = "fuzz-fence-wf";
        WorkflowDefinition def = WorkflowDefinition.newBuilder().setName(wf).setVersion("1")
                .addSteps(StepDefinition.newBuilder().setName("s")).build();
        String holder = FuzzSupport.workers(channel).register(RegisterRequest.newBuilder().setWorkerName("fence-holder").setSlots(1)
                .addWorkflows(def).build()).getWorkerId();
        LinkedBlockingQueue<StartStep> starts = new LinkedBlockingQueue<>();
        Context.CancellableContext listen = Context.current().withCancellation();
        try {
            listen.run(() -> FuzzSupport.auth(WorkerServiceGrpc.newStub(channel), TestServer.TOKEN).withDeadline(null)
                    .listen(ListenRequest.newBuilder().setWorkerId(holder).build(), new StreamObserver<>() {
                        @Override
                        public void onNext(Assignment a) {
                            if (a.hasStart()) starts.add(a.getStart());
                            starts.addAll(a.getStarts().getStepsList());
                        }

                        @Override
                        public void onError(Throwable t) { }

                        @Override
                        public void onCompleted() { }
                    }));
            Thread.sleep(300);
            String runId = FuzzSupport.runs(channel).triggerRun(TriggerRunRequest.newBuilder().setWorkflowName(wf).build()).getRunId();
            StartStep start = starts.poll(20, TimeUnit.SECONDS);
            assertThat(start).as("the holder got the step of run %s", runId).isNotNull();
            String stranger = UUID.randomUUID().toString();
            StepEvent done = StepEvent.newBuilder().setTaskId(start.getTaskId()).setAttempt(start.getAttempt())
                    .setCompleted(StepCompleted.newBuilder().setOutputJson("\"forged\"")).build();
            ReportStepEventsResponse r = FuzzSupport.workers(channel).reportStepEvents(ReportStepEventsRequest.newBuilder()
                    .setWorkerId(stranger).addEvents(done).build());
            assertThat(r.getAccepted(0)).as("ReportStepEvents(worker_id=%s (never registered), task %s attempt %s completed) for a step "
                    + "leased to worker %s was accepted; run %s is now %s", stranger, start.getTaskId(), start.getAttempt(), holder, runId,
                    FuzzSupport.runs(channel).getRun(GetRunRequest.newBuilder().setRunId(runId).build()).getStatus()).isFalse();
        } finally {
            listen.cancel(null);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Generators
    // ------------------------------------------------------------------------------------------

    static <T extends com.google.protobuf.MessageOrBuilder> Gen<T> gen(T m, Expect e) {
        return new Gen<>(m, e, show(m));
    }

    Arbitrary<Gen<String>> inputJsons() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(new Gen<>("", VALID, "''"))),
                Tuple.of(5, JsonGen.values(3).map(s -> new Gen<>(s, VALID, s))),
                Tuple.of(1, Arbitraries.of(" ", "\n{}\n", "\"str\"", "5", "null", "true", "[]").map(s -> new Gen<>(s, VALID, s))),
                Tuple.of(3, Arbitraries.of("{", "{\"a\":", "{\"a\" 1}", "[1,]", "{'a':1}", "undefined", "NaN", "{} {}", "{}x", "\"unterminated",
                        "{\"a\":1}}", "01", "--1", "tru", "\u0000", "\ufeff{}").map(s -> new Gen<>(s, INVALID, JsonGen.quote(s)))),
                Tuple.of(1, Arbitraries.of("\"\\u0000\"", "{\"a\\u0000\":1}", "\"\\udc00\"", "1e999999", "-1e999999",
                        "[" + "[".repeat(3000) + "]".repeat(3000) + "]", "9".repeat(5000)).map(s -> new Gen<>(s, EITHER, abbreviate(s)))),
                Tuple.of(1, Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.integers().between(1, 100_000)),
                                Tuple.of(1, Arbitraries.integers().between(100_000, 2 * 1024 * 1024)))
                        .map(n -> new Gen<>("\"" + "j".repeat(n) + "\"", EITHER, "a JSON string of " + n + " chars"))));
    }

    @Provide
    Arbitrary<Gen<TriggerRunRequest>> triggers() {
        return triggers(WF);
    }

    Arbitrary<Gen<TriggerRunRequest>> triggers(String wf) {
        Arbitrary<Gen<String>> name = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(new Gen<>(wf, VALID, wf))),
                Tuple.of(2, FuzzSupport.nastyString().map(s -> new Gen<>(s, INVALID, s))),
                Tuple.of(1, Arbitraries.integers().between(100, 100_000).map(n -> new Gen<>("n".repeat(n), INVALID, n + " chars"))));
        Arbitrary<Gen<Map<String, String>>> metadata = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(new Gen<Map<String, String>>(Map.of(), VALID, "{}"))),
                Tuple.of(2, Arbitraries.maps(FuzzSupport.nastyString(), FuzzSupport.nastyString()).ofMaxSize(5)
                        .map(m -> new Gen<>(m, m.entrySet().stream().anyMatch(e -> FuzzSupport.hasNul(e.getKey()) || FuzzSupport.hasNul(e.getValue()))
                                ? EITHER : VALID, m.toString()))));
        Arbitrary<Gen<String>> key = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just(new Gen<>("", VALID, "''"))),
                Tuple.of(3, FuzzSupport.nastyString().map(s -> s + UUID.randomUUID()).map(s -> new Gen<>(s, FuzzSupport.hasNul(s) ? EITHER : VALID, s))),
                Tuple.of(1, Arbitraries.of("fuzz-grpc-fixed-key", "k".repeat(512)).map(s -> new Gen<>(s, VALID, s))),
                Tuple.of(1, Arbitraries.integers().between(513, 4000).map(n -> new Gen<>("k".repeat(n - 36) + UUID.randomUUID(), INVALID, n + " chars"))));
        Arbitrary<Gen<Integer>> priority = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(new Gen<>(0, VALID, "0"))),
                Tuple.of(3, Arbitraries.integers().between(-10, 10).map(p -> new Gen<>(p, p >= 0 && p <= 4 ? VALID : INVALID, "" + p))),
                Tuple.of(1, Arbitraries.of(Integer.MIN_VALUE, Integer.MAX_VALUE, 32768, -32769).map(p -> new Gen<>(p, INVALID, "" + p))));
        Arbitrary<Gen<String>> version = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.of("", "1").map(s -> new Gen<>(s, VALID, s))),
                Tuple.of(1, FuzzSupport.nastyString().filter(s -> !s.isEmpty() && !s.equals("1")).map(s -> new Gen<>(s, INVALID, s))));
        Arbitrary<Gen<String>> parent = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.just(new Gen<>("", VALID, "''"))),
                Tuple.of(1, Arbitraries.oneOf(FuzzSupport.nastyString().filter(s -> !s.isEmpty()),
                        Arbitraries.create(() -> UUID.randomUUID().toString())).map(s -> new Gen<>(s, INVALID, s))));
        return Combinators.combine(name, inputJsons(), metadata, key, priority, version, parent).as((n, i, m, k, p, v, pr) -> {
            TriggerRunRequest r = TriggerRunRequest.newBuilder().setWorkflowName(n.value()).setInputJson(i.value()).putAllMetadata(m.value())
                    .setIdempotencyKey(k.value()).setPriority(p.value()).setWorkflowVersion(v.value()).setParentRunId(pr.value()).build();
            Expect e = n.expect().and(i.expect()).and(m.expect()).and(k.expect()).and(p.expect()).and(v.expect()).and(pr.expect());
            return gen(r, e);
        });
    }

    @Provide
    Arbitrary<List<Gen<TriggerRunRequest>>> triggerLists() {
        return Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(List.<Gen<TriggerRunRequest>>of())),
                Tuple.of(6, triggers(WF_BATCH).list().ofMinSize(1).ofMaxSize(12)));
    }

    @Provide
    Arbitrary<List<Gen<TriggerRunRequest>>> validTriggers() {
        return triggers(WF_ONEBAD).filter(g -> g.expect() == VALID).list().ofMaxSize(25);
    }

    @Provide
    Arbitrary<Gen<TriggerRunRequest>> clearlyInvalidTriggers() {
        return Arbitraries.of(
                TriggerRunRequest.newBuilder().setWorkflowName(WF_ONEBAD).setInputJson("{\"total\": ").build(),
                TriggerRunRequest.newBuilder().setWorkflowName("").build(),
                TriggerRunRequest.newBuilder().setWorkflowName("no-such-workflow").build(),
                TriggerRunRequest.newBuilder().setWorkflowName(WF_ONEBAD).setPriority(-3).build(),
                TriggerRunRequest.newBuilder().setWorkflowName(WF_ONEBAD).setIdempotencyKey("k".repeat(600)).build(),
                TriggerRunRequest.newBuilder().setWorkflowName(WF_ONEBAD).setWorkflowVersion("no-such-version").build(),
                TriggerRunRequest.newBuilder().setWorkflowName(WF_ONEBAD).setParentRunId(UUID.randomUUID().toString()).build()).map(r -> gen(r, INVALID));
    }

    @Provide
    Arbitrary<Integer> indexes() {
        return Arbitraries.integers().between(0, 25);
    }

    @Provide
    Arbitrary<String> runIds() {
        return Arbitraries.oneOf(
                Arbitraries.create(() -> UUID.randomUUID().toString()),
                Arbitraries.create(() -> finishedRunId),
                Arbitraries.of("", "not-a-uuid", "1-1-1-1-1", "00000000-0000-0000-0000-000000000000", "{" + UUID.randomUUID() + "}",
                        UUID.randomUUID().toString().toUpperCase(), " " + UUID.randomUUID()),
                FuzzSupport.nastyString(),
                Arbitraries.integers().between(1000, 200_000).map(n -> "r".repeat(n)));
    }

    @Provide
    Arbitrary<Long> timeouts() {
        return Arbitraries.oneOf(Arbitraries.of(-1L, 0L, 1L, 50L, Long.MIN_VALUE, Long.MAX_VALUE, 300_001L),
                Arbitraries.longs().between(-1_000_000, 1_000));
    }

    @Provide
    Arbitrary<String> runOps() {
        return Arbitraries.of("get", "await", "cancel");
    }

    @Provide
    Arbitrary<Integer> statusValues() {
        return Arbitraries.oneOf(Arbitraries.integers().between(-2, 8), Arbitraries.of(Integer.MIN_VALUE, Integer.MAX_VALUE, 1000));
    }

    @Provide
    Arbitrary<Integer> limits() {
        return Arbitraries.oneOf(Arbitraries.of(-5, -1, 0, 1, 1000, 1001, 5000, Integer.MIN_VALUE, Integer.MAX_VALUE),
                Arbitraries.integers().between(-100, 2000));
    }

    @Provide
    Arbitrary<String> beforeIds() {
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just("")), Tuple.of(2, runIds()));
    }

    @Provide
    Arbitrary<String> listWorkflows() {
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of("", WF)), Tuple.of(2, FuzzSupport.nastyString()),
                Tuple.of(1, Arbitraries.integers().between(1000, 100_000).map(n -> "w".repeat(n))));
    }

    @Provide
    Arbitrary<Gen<WorkflowDefinition>> definitions() {
        Arbitrary<String> stepName = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of("a", "b", "c", "d", "e")),
                Tuple.of(1, Arbitraries.of("", " ", "a/b", "/", "\u00e9t\u00e9", "x\u0000y")),
                Tuple.of(1, FuzzSupport.nastyString()));
        Arbitrary<StepDefinition> step = Combinators.combine(stepName,
                Arbitraries.of("a", "b", "c", "d", "e", "zz", "").list().ofMaxSize(3),
                Arbitraries.oneOf(Arbitraries.of(0, 1, 3, -1, Integer.MIN_VALUE, Integer.MAX_VALUE)),
                Arbitraries.oneOf(Arbitraries.of(0L, 1000L, -1L, Long.MIN_VALUE, Long.MAX_VALUE)),
                Arbitraries.oneOf(Arbitraries.of(0L, 5000L, -5L, Long.MAX_VALUE)),
                Arbitraries.of(0, 1, 2, -1, Integer.MAX_VALUE),
                Arbitraries.of(0.0, 2.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY),
                Arbitraries.of(0L, 1L, -1L, Long.MAX_VALUE)).as((n, parents, attempts, timeout, sts, slot, mult, backoff) ->
                StepDefinition.newBuilder().setName(n).addAllParents(parents).setExecutionTimeoutMs(timeout).setScheduleToStartTimeoutMs(sts)
                        .setSlotCost(slot).setRetry(RetryPolicy.newBuilder().setMaxAttempts(attempts).setBackoffMultiplier(mult)
                                .setInitialBackoffMs(backoff).setMaxBackoffMs(backoff)).build());
        Arbitrary<String> name = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(20).map(s -> "fuzz-def-" + s)),
                Tuple.of(2, FuzzSupport.nastyString().map(s -> "fuzz-def-" + s)),
                Tuple.of(1, Arbitraries.of("", " ", "fuzz-def/x")),
                Tuple.of(1, Arbitraries.integers().between(150, 5000).map(n -> "fuzz-def-" + "n".repeat(n))));
        Arbitrary<String> version = Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.of("1", "2", "v1.0")),
                Tuple.of(1, Arbitraries.of("", " ")), Tuple.of(1, FuzzSupport.nastyString()));
        return Combinators.combine(name, version, step.list().ofMaxSize(6)).as((n, v, steps) -> {
            WorkflowDefinition d = WorkflowDefinition.newBuilder().setName(n).setVersion(v).addAllSteps(steps).build();
            return gen(d, expectDefinition(d));
        });
    }

    /** The definition rules of the protocol, written independently of the server's validator. */
    static Expect expectDefinition(WorkflowDefinition d) {
        if (d.getName().isBlank() || d.getName().length() > 200 || d.getVersion().isBlank() || d.getStepsCount() == 0) return INVALID;
        Map<String, StepDefinition> byName = new java.util.HashMap<>();
        for (StepDefinition s : d.getStepsList()) {
            if (s.getName().isBlank() || s.getName().contains("/") || byName.put(s.getName(), s) != null) return INVALID;
            if (s.getRetry().getMaxAttempts() < 0 || s.getExecutionTimeoutMs() < 0 || s.getScheduleToStartTimeoutMs() < 0 || s.getSlotCost() < 0) {
                return INVALID;
            }
        }
        for (StepDefinition s : d.getStepsList()) for (String p : s.getParentsList()) if (!byName.containsKey(p)) return INVALID;
        // Acyclic: repeatedly remove steps whose parents are all removed.
        Set<String> done = new HashSet<>();
        boolean progress = true;
        while (progress) {
            progress = false;
            for (StepDefinition s : d.getStepsList()) {
                if (!done.contains(s.getName()) && done.containsAll(s.getParentsList())) {
                    done.add(s.getName());
                    progress = true;
                }
            }
        }
        if (done.size() != byName.size()) return INVALID;
        // Nonsense retry settings (negative backoff, NaN or negative multiplier) should be refused; a lenient server may accept them.
        Expect e = VALID;
        for (StepDefinition s : d.getStepsList()) {
            RetryPolicy r = s.getRetry();
            if (r.getInitialBackoffMs() < 0 || r.getMaxBackoffMs() < 0 || Double.isNaN(r.getBackoffMultiplier())
                    || Double.isInfinite(r.getBackoffMultiplier()) || r.getBackoffMultiplier() < 0) e = EITHER;
        }
        if (FuzzSupport.hasNul(d.getName()) || FuzzSupport.hasNul(d.getVersion())
                || d.getStepsList().stream().anyMatch(s -> FuzzSupport.hasNul(s.getName()))) e = EITHER;
        return e;
    }

    @Provide
    Arbitrary<Gen<RegisterRequest>> registrations() {
        Arbitrary<String> workerName = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.of("fuzz-w")), Tuple.of(2, FuzzSupport.nastyString()),
                Tuple.of(1, Arbitraries.integers().between(1000, 50_000).map(n -> "w".repeat(n))));
        Arbitrary<Integer> slots = Arbitraries.oneOf(Arbitraries.of(0, -1, 1, 100_000, 100_001, Integer.MIN_VALUE, Integer.MAX_VALUE),
                Arbitraries.integers().between(-10, 200));
        Arbitrary<List<Gen<WorkflowDefinition>>> workflows = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(List.<Gen<WorkflowDefinition>>of())), Tuple.of(4, definitions().list().ofMinSize(1).ofMaxSize(2)));
        Arbitrary<Map<String, String>> labels = Arbitraries.maps(FuzzSupport.nastyString(), FuzzSupport.nastyString()).ofMaxSize(3);
        Arbitrary<String> previous = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just("")),
                Tuple.of(1, Arbitraries.create(() -> UUID.randomUUID().toString())),
                Tuple.of(1, Arbitraries.of("not-a-uuid", "  ", "1-1-1-1-1")));
        Arbitrary<String> sdk = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of("", "fuzz/0.0")), Tuple.of(1, FuzzSupport.nastyString()));
        return Combinators.combine(workerName, slots, workflows, labels, previous, sdk).as((n, s, wfs, l, p, k) -> {
            RegisterRequest.Builder b = RegisterRequest.newBuilder().setWorkerName(n).setSlots(s).putAllLabels(l).setPreviousWorkerId(p).setSdk(k);
            Expect e = n.isBlank() || s < 1 || s > 100_000 || wfs.isEmpty() ? INVALID : VALID;
            for (Gen<WorkflowDefinition> w : wfs) {
                b.addWorkflows(w.value());
                e = e.and(w.expect());
            }
            if (!p.isBlank()) {
                try {
                    UUID.fromString(p);
                } catch (IllegalArgumentException ex) {
                    e = INVALID;
                }
            }
            boolean nul = FuzzSupport.hasNul(n) || FuzzSupport.hasNul(k)
                    || l.entrySet().stream().anyMatch(x -> FuzzSupport.hasNul(x.getKey()) || FuzzSupport.hasNul(x.getValue()));
            if (nul && e == VALID) e = EITHER;
            RegisterRequest r = b.build();
            return new Gen<>(r, e, show(r));
        });
    }

    @Provide
    Arbitrary<String> workerIds() {
        return Arbitraries.oneOf(Arbitraries.create(() -> UUID.randomUUID().toString()), Arbitraries.create(() -> registeredWorkerId),
                Arbitraries.of("", "not-a-uuid", "1-1-1-1-1"), FuzzSupport.nastyString(),
                Arbitraries.integers().between(1000, 100_000).map(n -> "w".repeat(n)));
    }

    @Provide
    Arbitrary<List<Gen<StepEvent>>> eventLists() {
        // Task ids far from any real task (negative, 0, huge), so reports cannot touch other tests' steps.
        Arbitrary<Long> taskId = Arbitraries.oneOf(Arbitraries.of(0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE),
                Arbitraries.longs().between(1_000_000_000_000L, Long.MAX_VALUE), Arbitraries.longs().lessOrEqual(-1));
        Arbitrary<Integer> attempt = Arbitraries.oneOf(Arbitraries.of(0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE), Arbitraries.integers());
        Arbitrary<String> kind = Arbitraries.of("none", "started", "completed", "failed");
        Arbitrary<StepEvent> event = Combinators.combine(taskId, attempt, kind, inputJsons(), FuzzSupport.nastyString(), Arbitraries.of(true, false))
                .as((t, a, k, out, msg, flag) -> {
                    StepEvent.Builder b = StepEvent.newBuilder().setTaskId(t).setAttempt(a);
                    switch (k) {
                        case "started" -> b.setStarted(StepStarted.newBuilder().setStartedAtMs(t));
                        case "completed" -> b.setCompleted(StepCompleted.newBuilder().setOutputJson(out.value()));
                        case "failed" -> b.setFailed(StepFailed.newBuilder().setErrorMessage(msg).setErrorType(msg).setStackTrace(msg)
                                .setNonRetryable(flag).setTimedOut(!flag).setCancelled(flag));
                        default -> { }
                    }
                    return b.build();
                });
        return event.map(ev -> gen(ev, ev.getKindCase() == StepEvent.KindCase.KIND_NOT_SET ? INVALID : VALID)).list().ofMaxSize(6);
    }
}
