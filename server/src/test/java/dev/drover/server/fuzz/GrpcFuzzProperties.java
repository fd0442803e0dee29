package dev.drover.server.fuzz;

import static dev.drover.server.fuzz.FuzzSupport.Expect.EITHER;
import static dev.drover.server.fuzz.FuzzSupport.Expect.INVALID;
import static dev.drover.server.fuzz.FuzzSupport.Expect.VALID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.AttemptRef;
import dev.drover.proto.v1.AwaitRunRequest;
import dev.drover.proto.v1.CancelRunRequest;
import dev.drover.proto.v1.CreateCronRequest;
import dev.drover.proto.v1.CreateScheduleRequest;
import dev.drover.proto.v1.Cron;
import dev.drover.proto.v1.DeleteCronRequest;
import dev.drover.proto.v1.DeleteRateLimitRequest;
import dev.drover.proto.v1.DeleteScheduleRequest;
import dev.drover.proto.v1.DrainWorkerRequest;
import dev.drover.proto.v1.GetCronRequest;
import dev.drover.proto.v1.GetRateLimitRequest;
import dev.drover.proto.v1.GetRunRequest;
import dev.drover.proto.v1.GetScheduleRequest;
import dev.drover.proto.v1.GetWorkerRequest;
import dev.drover.proto.v1.HeartbeatRequest;
import dev.drover.proto.v1.ListCronsRequest;
import dev.drover.proto.v1.ListRateLimitsRequest;
import dev.drover.proto.v1.ListRunsRequest;
import dev.drover.proto.v1.ListRunsResponse;
import dev.drover.proto.v1.ListSchedulesRequest;
import dev.drover.proto.v1.ListWorkersRequest;
import dev.drover.proto.v1.ListenRequest;
import dev.drover.proto.v1.PauseCronRequest;
import dev.drover.proto.v1.PauseRateLimitKeyRequest;
import dev.drover.proto.v1.PauseWorkerRequest;
import dev.drover.proto.v1.PutRateLimitRequest;
import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.RateLimit;
import dev.drover.proto.v1.RegisterRequest;
import dev.drover.proto.v1.RegisterResponse;
import dev.drover.proto.v1.ReleaseStepsRequest;
import dev.drover.proto.v1.ReleaseStepsResponse;
import dev.drover.proto.v1.ReplayRunRequest;
import dev.drover.proto.v1.ReplayRunsRequest;
import dev.drover.proto.v1.ReportStepEventsRequest;
import dev.drover.proto.v1.ReportStepEventsResponse;
import dev.drover.proto.v1.RescheduleScheduleRequest;
import dev.drover.proto.v1.ResumeCronRequest;
import dev.drover.proto.v1.ResumeWorkerRequest;
import dev.drover.proto.v1.RetryPolicy;
import dev.drover.proto.v1.Schedule;
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
    static final String WF_CRON = "fuzz-grpc-cron";
    static final String WF_SCHED = "fuzz-grpc-sched";
    static final String WF_REPLAY = "fuzz-grpc-replay";
    static final String RL_PREFIX = "fuzz-grpc-rl-";
    static final String RL_KEEP = RL_PREFIX + "keeper";
    static final Set<Status.Code> FORBIDDEN = Set.of(Status.Code.INTERNAL, Status.Code.UNKNOWN, Status.Code.DATA_LOSS,
            Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED);
    static ManagedChannel channel;
    static String finishedRunId;
    static String registeredWorkerId;
    static String cronKeeperId;
    static String scheduleKeeperId;
    static List<String> replayRunIds = new ArrayList<>();

    @BeforeContainer
    static void setUp() {
        FuzzSupport.server();
        channel = FuzzSupport.channel();
        for (String wf : List.of(WF, WF_BATCH, WF_ONEBAD, WF_BIG, WF_GROUP, WF_CRON, WF_SCHED, WF_REPLAY)) FuzzSupport.registerSingleStep(channel, wf);
        finishedRunId = FuzzSupport.runs(channel).triggerRun(TriggerRunRequest.newBuilder().setWorkflowName(WF).build()).getRunId();
        FuzzSupport.runs(channel).cancelRun(CancelRunRequest.newBuilder().setRunId(finishedRunId).build());
        registeredWorkerId = FuzzSupport.workers(channel).register(RegisterRequest.newBuilder().setWorkerName("fuzz-worker")
                .setSlots(1).addWorkflows(WorkflowDefinition.newBuilder().setName("fuzz-grpc-worker-wf").setVersion("1")
                        .addSteps(StepDefinition.newBuilder().setName("s"))).build()).getWorkerId();
        cronKeeperId = FuzzSupport.schedules(channel).createCron(CreateCronRequest.newBuilder().setWorkflowName(WF_CRON).setName("fuzz-keeper")
                .setExpression("0 0 1 1 *").setPaused(true).build()).getId();
        scheduleKeeperId = FuzzSupport.schedules(channel).createSchedule(CreateScheduleRequest.newBuilder().setWorkflowName(WF_SCHED)
                .setDelayMs(86_400_000L).build()).getId();
        putKeeper();
        for (int i = 0; i < 3; i++) {
            String id = FuzzSupport.runs(channel).triggerRun(TriggerRunRequest.newBuilder().setWorkflowName(WF_REPLAY).putMetadata("k", "v").build())
                    .getRunId();
            FuzzSupport.runs(channel).cancelRun(CancelRunRequest.newBuilder().setRunId(id).build());
            replayRunIds.add(id);
        }
    }

    @AfterContainer
    static void tearDown() {
        if (channel != null) {
            for (String wf : List.of(WF_SCHED, WF_REPLAY, WF_CRON)) FuzzSupport.cancelUnfinished(channel, wf);
        }
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
    // Crons and schedules
    // ------------------------------------------------------------------------------------------

    static void checkExpect(Expect expect, Outcome<?> o, String ctx) {
        if (expect == INVALID) assertThat(o.ok()).as("an invalid request must be refused: %s", ctx).isFalse();
        if (expect == VALID) assertThat(o.ok()).as("a valid request must be accepted: %s", ctx).isTrue();
    }

    @Property(tries = 150, shrinking = ShrinkingMode.BOUNDED)
    void create_cron_validates_and_a_refused_one_creates_nothing(@ForAll("cronRequests") Gen<CreateCronRequest> req) {
        int before = FuzzSupport.cronCount(channel);
        Outcome<Cron> o = call(() -> FuzzSupport.schedules(channel).createCron(req.value()));
        String ctx = "CreateCron " + req + "\n  -> " + o;
        checkStatus(o, ctx);
        checkExpect(req.expect(), o, ctx);
        assertThat(FuzzSupport.cronCount(channel) - before).as("crons created by %s", ctx).isEqualTo(o.ok() ? 1 : 0);
        // Deleted at once: a cron firing every second would otherwise keep starting runs.
        if (o.ok()) FuzzSupport.schedules(channel).deleteCron(DeleteCronRequest.newBuilder().setCronId(o.value().getId()).build());
    }

    @Property(tries = 120, shrinking = ShrinkingMode.BOUNDED)
    void cron_calls_with_any_id_or_filter(@ForAll("cronIds") String id, @ForAll("cronOps") String op) {
        int before = FuzzSupport.cronCount(channel);
        var s = FuzzSupport.schedules(channel);
        Outcome<?> o = switch (op) {
            case "get" -> call(() -> s.getCron(GetCronRequest.newBuilder().setCronId(id).build()));
            case "pause" -> call(() -> s.pauseCron(PauseCronRequest.newBuilder().setCronId(id).build()));
            case "resume" -> call(() -> s.resumeCron(ResumeCronRequest.newBuilder().setCronId(id).build()));
            case "delete" -> call(() -> s.deleteCron(DeleteCronRequest.newBuilder().setCronId(id).build()));
            default -> call(() -> s.listCrons(ListCronsRequest.newBuilder().setWorkflowName(id).build()));
        };
        String ctx = op + "Cron(" + abbreviate(JsonGen.quote(id)) + ")\n  -> " + o;
        checkStatus(o, ctx);
        assertThat(FuzzSupport.cronCount(channel) - before).as(ctx).isEqualTo(op.equals("delete") && o.ok() ? -1 : 0);
    }

    @Property(tries = 150, shrinking = ShrinkingMode.BOUNDED)
    void create_schedule_validates_and_a_refused_one_creates_nothing(@ForAll("scheduleRequests") Gen<CreateScheduleRequest> req) {
        int before = FuzzSupport.scheduleCount(channel, WF_SCHED);
        Outcome<Schedule> o = call(() -> FuzzSupport.schedules(channel).createSchedule(req.value()));
        String ctx = "CreateSchedule " + req + "\n  -> " + o;
        checkStatus(o, ctx);
        checkExpect(req.expect(), o, ctx);
        boolean created = o.ok() && !req.value().getScheduleId().equals(scheduleKeeperId);
        assertThat(FuzzSupport.scheduleCount(channel, WF_SCHED) - before).as("schedules created by %s", ctx).isEqualTo(created ? 1 : 0);
        if (created && !req.value().getScheduleId().isEmpty()) {
            // A retry with the same id creates no second schedule.
            Outcome<Schedule> again = call(() -> FuzzSupport.schedules(channel).createSchedule(req.value()));
            assertThat(again.ok() && again.value().getId().equals(o.value().getId())).as("retry of %s -> %s", ctx, again).isTrue();
            assertThat(FuzzSupport.scheduleCount(channel, WF_SCHED) - before).as("a retry of %s created a schedule", ctx).isEqualTo(1);
        }
        FuzzSupport.cancelUnfinished(channel, WF_SCHED);
    }

    @Property(tries = 120, shrinking = ShrinkingMode.BOUNDED)
    void schedule_calls_with_any_id_instant_or_filter(@ForAll("scheduleIds") String id, @ForAll("scheduleOps") String op,
                                                      @ForAll("instants") Gen<long[]> when, @ForAll("statusValues") int status,
                                                      @ForAll("limits") int limit) {
        int before = FuzzSupport.scheduleCount(channel, WF_SCHED);
        var s = FuzzSupport.schedules(channel);
        Outcome<?> o = switch (op) {
            case "get" -> call(() -> s.getSchedule(GetScheduleRequest.newBuilder().setScheduleId(id).build()));
            case "reschedule" -> call(() -> s.rescheduleSchedule(RescheduleScheduleRequest.newBuilder().setScheduleId(id)
                    .setFireAtMs(when.value()[0]).setDelayMs(when.value()[1]).build()));
            case "delete" -> call(() -> s.deleteSchedule(DeleteScheduleRequest.newBuilder().setScheduleId(id).build()));
            default -> call(() -> s.listSchedules(ListSchedulesRequest.newBuilder().setWorkflowName(id).setStatusValue(status)
                    .setLimit(limit).build()));
        };
        String ctx = op + "Schedule(" + abbreviate(JsonGen.quote(id)) + ", " + when + ", status=" + status + ", limit=" + limit
                + ")\n  -> " + o;
        checkStatus(o, ctx);
        if (op.equals("reschedule") && when.expect() == INVALID) assertThat(o.ok()).as(ctx).isFalse();
        assertThat(FuzzSupport.scheduleCount(channel, WF_SCHED)).as(ctx).isEqualTo(before);
        FuzzSupport.cancelUnfinished(channel, WF_SCHED);
    }

    // ------------------------------------------------------------------------------------------
    // Rate limits
    // ------------------------------------------------------------------------------------------

    @Property(tries = 150, shrinking = ShrinkingMode.BOUNDED)
    void put_rate_limit_validates_and_a_refused_one_creates_nothing(@ForAll("rateLimitPuts") Gen<PutRateLimitRequest> req) {
        Set<String> before = FuzzSupport.rateLimitNames(channel);
        Outcome<RateLimit> o = call(() -> FuzzSupport.rateLimits(channel).putRateLimit(req.value()));
        String ctx = "PutRateLimit " + req + "\n  -> " + o;
        checkStatus(o, ctx);
        checkExpect(req.expect(), o, ctx);
        Set<String> after = FuzzSupport.rateLimitNames(channel);
        boolean created = o.ok() && !before.contains(o.value().getName());
        assertThat(after.size() - before.size()).as("rate limits created by %s", ctx).isEqualTo(created ? 1 : 0);
        if (created) FuzzSupport.rateLimits(channel).deleteRateLimit(DeleteRateLimitRequest.newBuilder().setName(o.value().getName()).build());
    }

    @Property(tries = 150, shrinking = ShrinkingMode.BOUNDED)
    void rate_limit_calls_with_any_name_key_and_duration(@ForAll("rateLimitNames") String name, @ForAll("rateLimitOps") String op,
                                                         @ForAll("limits") int top, @ForAll("pauseKeys") Gen<String> key,
                                                         @ForAll("timeouts") long durationMs, @ForAll("reasons") Gen<String> reason) {
        Set<String> before = FuzzSupport.rateLimitNames(channel);
        var r = FuzzSupport.rateLimits(channel);
        Outcome<?> o = switch (op) {
            case "get" -> call(() -> r.getRateLimit(GetRateLimitRequest.newBuilder().setName(name).setTop(top).build()));
            case "delete" -> call(() -> r.deleteRateLimit(DeleteRateLimitRequest.newBuilder().setName(name).build()));
            case "list" -> call(() -> r.listRateLimits(ListRateLimitsRequest.getDefaultInstance()));
            default -> call(() -> r.pauseRateLimitKey(PauseRateLimitKeyRequest.newBuilder().setName(name).setKey(key.value())
                    .setDurationMs(durationMs).setReason(reason.value()).build()));
        };
        String ctx = op + "RateLimit(name=" + abbreviate(JsonGen.quote(name)) + ", top=" + top + ", key=" + key + ", durationMs="
                + durationMs + ", reason=" + reason + ")\n  -> " + o;
        checkStatus(o, ctx);
        if (op.equals("pause") && (key.expect() == INVALID || reason.expect() == INVALID || durationMs < 0
                || durationMs > 31L * 86_400_000L)) {
            assertThat(o.ok()).as("an invalid pause must be refused: %s", ctx).isFalse();
        }
        if (op.equals("get") && top < 0) assertThat(o.ok()).as(ctx).isFalse();
        Set<String> after = FuzzSupport.rateLimitNames(channel);
        if (op.equals("delete") && o.ok()) before.remove(name);
        assertThat(after).as("rate limits after %s", ctx).isEqualTo(before);
        if (op.equals("delete") && o.ok()) putKeeper();
    }

    // ------------------------------------------------------------------------------------------
    // Worker administration, replays, releases
    // ------------------------------------------------------------------------------------------

    @Property(tries = 120, shrinking = ShrinkingMode.BOUNDED)
    void worker_admin_calls_with_any_id_and_wait(@ForAll("workerIds") String id, @ForAll("workerOps") String op,
                                                 @ForAll("waits") long waitMs) {
        var w = FuzzSupport.workerAdmin(channel);
        Outcome<?> o = switch (op) {
            case "get" -> call(() -> w.getWorker(GetWorkerRequest.newBuilder().setWorkerId(id).build()));
            case "pause" -> call(() -> w.pauseWorker(PauseWorkerRequest.newBuilder().setWorkerId(id).build()));
            case "resume" -> call(() -> w.resumeWorker(ResumeWorkerRequest.newBuilder().setWorkerId(id).build()));
            case "drain" -> call(() -> w.drainWorker(DrainWorkerRequest.newBuilder().setWorkerId(id).setWaitMs(waitMs).build()));
            default -> call(() -> w.listWorkers(ListWorkersRequest.getDefaultInstance()));
        };
        String ctx = op + "Worker(" + abbreviate(JsonGen.quote(id)) + (op.equals("drain") ? ", wait_ms=" + waitMs : "") + ")\n  -> " + o;
        checkStatus(o, ctx);
        if (op.equals("drain") && (waitMs < 0 || waitMs > 300_000)) assertThat(o.ok()).as(ctx).isFalse();
    }

    @Property(tries = 120, shrinking = ShrinkingMode.BOUNDED)
    void replays_with_any_id_filter_and_step_leave_no_run_stuck(@ForAll("replayRunIds") String id, @ForAll("fromSteps") String fromStep,
                                                                @ForAll boolean many, @ForAll("replayFilters") Gen<ReplayRunsRequest> filter) {
        Outcome<?> o = many ? call(() -> FuzzSupport.runs(channel).replayRuns(filter.value().toBuilder().setFromStep(fromStep).build()))
                : call(() -> FuzzSupport.runs(channel).replayRun(ReplayRunRequest.newBuilder().setRunId(id).setFromStep(fromStep).build()));
        String ctx = (many ? "ReplayRuns " + filter + " from_step=" : "ReplayRun(" + abbreviate(JsonGen.quote(id)) + ", from_step=")
                + abbreviate(JsonGen.quote(fromStep)) + ")\n  -> " + o;
        checkStatus(o, ctx);
        if (many && filter.expect() == INVALID) assertThat(o.ok()).as("an invalid filter must be refused: %s", ctx).isFalse();
        int unfinished = FuzzSupport.cancelUnfinished(channel, WF_REPLAY);
        if (!o.ok()) assertThat(unfinished).as("a refused replay restarted runs: %s", ctx).isZero();
    }

    /** Found by the HTTP fuzzer (the same engine call): a bound beyond a database timestamp must be INVALID_ARGUMENT naming it. */
    @Example
    void a_replay_filter_beyond_the_year_9999_is_invalid() {
        for (long ms : new long[] {Long.MAX_VALUE, 253402300800000L}) {
            ReplayRunsRequest req = ReplayRunsRequest.newBuilder().setWorkflowName(WF_REPLAY).setCreatedBeforeMs(ms).build();
            Outcome<?> o = call(() -> FuzzSupport.runs(channel).replayRuns(req));
            String ctx = "ReplayRuns " + show(req) + " -> " + o;
            assertThat(o.ok()).as(ctx).isFalse();
            assertThat(o.status().getCode()).as(ctx).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(o.status().getDescription()).as(ctx).contains("created_before");
        }
    }

    @Property(tries = 100, shrinking = ShrinkingMode.BOUNDED)
    void release_steps_from_anyone_releases_nothing_it_does_not_hold(@ForAll("workerIds") String workerId, @ForAll boolean leaving,
                                                                     @ForAll("attemptRefs") List<AttemptRef> steps) {
        ReleaseStepsRequest req = ReleaseStepsRequest.newBuilder().setWorkerId(workerId).setLeaving(leaving).addAllSteps(steps).build();
        Outcome<ReleaseStepsResponse> o = call(() -> FuzzSupport.workers(channel).releaseSteps(req));
        String ctx = "ReleaseSteps " + show(req) + "\n  -> " + o;
        checkStatus(o, ctx);
        if (o.ok()) assertThat(o.value().getReleased()).as("no generated attempt exists: %s", ctx).isZero();
    }

    static void putKeeper() {
        FuzzSupport.rateLimits(channel).putRateLimit(PutRateLimitRequest.newBuilder().setName(RL_KEEP).setCapacity(5).setWindow("minute").build());
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
        return ids(Arbitraries.create(() -> finishedRunId));
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
        return ids(Arbitraries.create(() -> registeredWorkerId));
    }

    @Provide
    Arbitrary<List<Gen<StepEvent>>> eventLists() {
        Arbitrary<Long> taskId = farTaskIds();
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

    /** Ids of every kind: random UUIDs, the given real ones, malformed, nasty and very long strings. */
    static Arbitrary<String> ids(Arbitrary<String> real) {
        return Arbitraries.oneOf(
                Arbitraries.create(() -> UUID.randomUUID().toString()),
                real,
                Arbitraries.of("", "not-a-uuid", "1-1-1-1-1", "00000000-0000-0000-0000-000000000000", "{" + UUID.randomUUID() + "}",
                        UUID.randomUUID().toString().toUpperCase(), " " + UUID.randomUUID()),
                FuzzSupport.nastyString(),
                Arbitraries.integers().between(1000, 100_000).map(n -> "i".repeat(n)));
    }

    static Arbitrary<Gen<String>> choice(Expect e, String... values) {
        return Arbitraries.of(values).map(s -> new Gen<>(s, e, abbreviate(JsonGen.quote(s))));
    }

    static Arbitrary<Gen<String>> nasty(Expect e) {
        return FuzzSupport.nastyString().map(s -> new Gen<>(s, e, abbreviate(JsonGen.quote(s))));
    }

    static Arbitrary<Gen<String>> longString(String prefix, int min, int max, Expect e) {
        return Arbitraries.integers().between(min, max).map(n -> new Gen<>(prefix + "x".repeat(n), e, prefix + "x*" + n));
    }

    static Arbitrary<Gen<Map<String, String>>> metadataMaps() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(new Gen<Map<String, String>>(Map.of(), VALID, "{}"))),
                Tuple.of(1, Arbitraries.just(new Gen<Map<String, String>>(Map.of("team", "a"), VALID, "{team=a}"))),
                Tuple.of(1, Arbitraries.just(new Gen<Map<String, String>>(Map.of("drover.cron", "x"), INVALID, "{drover.cron=x}"))),
                Tuple.of(2, Arbitraries.maps(FuzzSupport.nastyString(), FuzzSupport.nastyString()).ofMaxSize(4)
                        .map(m -> new Gen<>(m, EITHER, m.toString()))));
    }

    @Provide
    Arbitrary<Gen<CreateCronRequest>> cronRequests() {
        Arbitrary<Gen<String>> workflow = Arbitraries.frequencyOf(Tuple.of(8, choice(VALID, WF_CRON)),
                Tuple.of(1, choice(INVALID, "", " ", "no-such-workflow", WF_CRON + " ")), Tuple.of(1, nasty(INVALID)),
                Tuple.of(1, longString("w", 200, 50_000, INVALID)));
        Arbitrary<Gen<String>> name = Arbitraries.frequencyOf(Tuple.of(4, choice(VALID, "", " ")),
                Tuple.of(3, Arbitraries.create(() -> new Gen<>("fuzz-" + UUID.randomUUID(), VALID, "fuzz-<uuid>"))),
                Tuple.of(2, nasty(EITHER)), Tuple.of(1, longString("n", 201, 20_000, INVALID)));
        Arbitrary<Gen<String>> expression = Arbitraries.frequencyOf(
                Tuple.of(5, choice(VALID, "*/5 * * * *", "0 0 * * *", "0 9 * * 1-5", "30 */2 * * * *", "0 0 1 1 *", "@daily", "* * * * * *")),
                Tuple.of(2, choice(EITHER, "0 0 30 2 *", "0 0 29 2 *", "0 9 * * MON-FRI", "*/0 * * * *", "0 0 31 4 *", "0 0 * * 7",
                        "0 0 1 1 * 2099", "L * * * *", "? ? ? ? ?", "59 59 23 31 12 ?")),
                Tuple.of(3, choice(INVALID, "", "   ", "* * *", "61 * * * *", "* * * * * * * *", "not a cron", "* * 32 * *", "* * * 13 *",
                        "@never", "5-1000 * * * *", "*/99999999999 * * * *")),
                Tuple.of(1, nasty(EITHER)),
                Tuple.of(1, Arbitraries.integers().between(10, 20_000).map(n -> new Gen<>("* ".repeat(n), INVALID, n + " fields"))));
        Arbitrary<Gen<String>> zone = Arbitraries.frequencyOf(
                Tuple.of(5, choice(VALID, "", "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")),
                Tuple.of(2, choice(INVALID, "Mars/Olympus", "Europe/Nowhere", "GMT+99", "+25:00", "../../etc/passwd", "Europe/")),
                Tuple.of(1, nasty(EITHER)), Tuple.of(1, longString("Z", 100, 20_000, INVALID)));
        Arbitrary<Gen<String>> missed = Arbitraries.frequencyOf(Tuple.of(5, choice(VALID, "", "fire_once", "skip")),
                Tuple.of(2, choice(INVALID, "FIRE_ONCE", "burst", "skip ", "all")), Tuple.of(1, nasty(EITHER)));
        return Combinators.combine(workflow, name, expression, zone, inputJsons(), metadataMaps(), missed, Arbitraries.of(true, false))
                .as((w, n, x, z, i, m, mt, paused) -> {
                    CreateCronRequest r = CreateCronRequest.newBuilder().setWorkflowName(w.value()).setName(n.value()).setExpression(x.value())
                            .setTimeZone(z.value()).setInputJson(i.value()).putAllMetadata(m.value()).setMissedTicks(mt.value())
                            .setPaused(paused).build();
                    return gen(r, w.expect().and(n.expect()).and(x.expect()).and(z.expect()).and(i.expect()).and(m.expect()).and(mt.expect()));
                });
    }

    @Provide
    Arbitrary<String> cronIds() {
        return Arbitraries.oneOf(ids(Arbitraries.create(() -> cronKeeperId)), Arbitraries.just(WF_CRON));
    }

    @Provide
    Arbitrary<String> cronOps() {
        return Arbitraries.of("get", "pause", "resume", "delete", "list");
    }

    static final long NOW = System.currentTimeMillis();

    /** {fire_at_ms, delay_ms}: exactly one must be positive, and not beyond the year 9999. */
    @Provide
    Arbitrary<Gen<long[]>> instants() {
        long y9999 = java.time.Instant.parse("9999-12-31T00:00:00Z").toEpochMilli();
        Arbitrary<Long> fireAt = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0L)),
                Tuple.of(3, Arbitraries.of(1L, NOW - 3_600_000, NOW + 3_600_000, NOW + 86_400_000L, y9999, -1L, Long.MIN_VALUE, Long.MAX_VALUE,
                        y9999 + 1, 253402300800000L)), Tuple.of(1, Arbitraries.longs()));
        Arbitrary<Long> delay = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0L)),
                Tuple.of(3, Arbitraries.of(1L, 3_600_000L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, y9999 / 2, y9999 / 2 + 1, Long.MAX_VALUE / 2)),
                Tuple.of(1, Arbitraries.longs()));
        return Combinators.combine(fireAt, delay).as((f, d) -> {
            Expect e = f < 0 || d < 0 || (f > 0 && d > 0) || (f == 0 && d == 0) || f > y9999 || d > y9999 / 2 ? INVALID : VALID;
            return new Gen<>(new long[] {f, d}, e, "fire_at_ms=" + f + " delay_ms=" + d);
        });
    }

    @Provide
    Arbitrary<Gen<CreateScheduleRequest>> scheduleRequests() {
        Arbitrary<Gen<String>> workflow = Arbitraries.frequencyOf(Tuple.of(8, choice(VALID, WF_SCHED)),
                Tuple.of(1, choice(INVALID, "", " ", "no-such-workflow")), Tuple.of(1, nasty(INVALID)),
                Tuple.of(1, longString("w", 200, 50_000, INVALID)));
        // Client-chosen ids: fresh ones, the keeper's (a retried create: answered with the stored schedule), malformed ones.
        Arbitrary<Gen<String>> id = Arbitraries.frequencyOf(Tuple.of(5, choice(VALID, "")),
                Tuple.of(2, Arbitraries.create(() -> new Gen<>(UUID.randomUUID().toString(), VALID, "<fresh uuid>"))),
                Tuple.of(1, Arbitraries.create(() -> new Gen<>(scheduleKeeperId, VALID, "<keeper's id>"))),
                Tuple.of(1, choice(INVALID, "not-a-uuid", " ", "{" + UUID.randomUUID() + "}", UUID.randomUUID() + "x")),
                Tuple.of(1, nasty(EITHER)), Tuple.of(1, longString("i", 100, 50_000, INVALID)));
        return Combinators.combine(workflow, inputJsons(), metadataMaps(), instants(), id).as((w, i, m, t, sid) -> {
            CreateScheduleRequest r = CreateScheduleRequest.newBuilder().setWorkflowName(w.value()).setInputJson(i.value())
                    .putAllMetadata(m.value()).setFireAtMs(t.value()[0]).setDelayMs(t.value()[1]).setScheduleId(sid.value()).build();
            return gen(r, w.expect().and(i.expect()).and(m.expect()).and(t.expect()).and(sid.expect()));
        });
    }

    @Provide
    Arbitrary<String> scheduleIds() {
        return Arbitraries.oneOf(ids(Arbitraries.create(() -> scheduleKeeperId)), Arbitraries.just(WF_SCHED));
    }

    @Provide
    Arbitrary<String> scheduleOps() {
        return Arbitraries.of("get", "reschedule", "delete", "list");
    }

    @Provide
    Arbitrary<Gen<PutRateLimitRequest>> rateLimitPuts() {
        Arbitrary<Gen<String>> name = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(20).map(s -> new Gen<>(RL_PREFIX + s, VALID, RL_PREFIX + s))),
                Tuple.of(2, FuzzSupport.nastyString().map(s -> new Gen<>(RL_PREFIX + s, EITHER, abbreviate(JsonGen.quote(RL_PREFIX + s))))),
                Tuple.of(1, choice(INVALID, "", " ", "\t")), Tuple.of(1, longString(RL_PREFIX, 201, 20_000, INVALID)));
        Arbitrary<Gen<Integer>> capacity = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.integers().between(1, 1_000_000).map(c -> new Gen<>(c, VALID, "" + c))),
                Tuple.of(2, Arbitraries.of(0, -1, Integer.MIN_VALUE).map(c -> new Gen<>(c, INVALID, "" + c))),
                Tuple.of(1, Arbitraries.just(new Gen<>(Integer.MAX_VALUE, EITHER, "MAX"))));
        Arbitrary<Gen<String>> window = Arbitraries.frequencyOf(Tuple.of(4, choice(VALID, "second", "minute", "hour", "day")),
                Tuple.of(3, choice(VALID, "")), Tuple.of(2, choice(INVALID, "week", "1m", "0")), Tuple.of(1, choice(EITHER, "Second", "MINUTE", " minute")), Tuple.of(1, nasty(EITHER)));
        Arbitrary<Long> windowMs = Arbitraries.oneOf(Arbitraries.of(0L, 100L, 1000L, 31L * 86_400_000L, 99L, -1L, Long.MIN_VALUE, Long.MAX_VALUE,
                31L * 86_400_000L + 1), Arbitraries.longs());
        return Combinators.combine(name, capacity, window, windowMs).as((n, c, w, ms) -> {
            Expect we = !w.value().isEmpty() ? w.expect() : ms >= 100 && ms <= 31L * 86_400_000L ? VALID : INVALID;
            if (w.expect() == EITHER && w.value().isEmpty()) we = EITHER;
            PutRateLimitRequest r = PutRateLimitRequest.newBuilder().setName(n.value()).setCapacity(c.value()).setWindow(w.value())
                    .setWindowMs(ms).build();
            return gen(r, n.expect().and(c.expect()).and(we));
        });
    }

    @Provide
    Arbitrary<String> rateLimitNames() {
        return Arbitraries.oneOf(Arbitraries.of(RL_KEEP, RL_PREFIX + "missing", "", " "), FuzzSupport.nastyString(),
                Arbitraries.integers().between(201, 50_000).map(n -> "l".repeat(n)));
    }

    @Provide
    Arbitrary<String> rateLimitOps() {
        return Arbitraries.of("get", "delete", "list", "pause", "pause");
    }

    @Provide
    Arbitrary<Gen<String>> pauseKeys() {
        return Arbitraries.frequencyOf(Tuple.of(3, choice(VALID, "", "customer-42", "k".repeat(500))), Tuple.of(2, nasty(EITHER)),
                Tuple.of(1, longString("k", 501, 50_000, INVALID)));
    }

    @Provide
    Arbitrary<Gen<String>> reasons() {
        // A reason beyond 500 characters is cut to 500 (shown with the bucket), not refused.
        return Arbitraries.frequencyOf(Tuple.of(3, choice(VALID, "", "429 from upstream")), Tuple.of(2, nasty(EITHER)),
                Tuple.of(1, longString("r", 501, 50_000, EITHER)));
    }

    @Provide
    Arbitrary<String> workerOps() {
        return Arbitraries.of("get", "pause", "resume", "drain", "drain", "list");
    }

    @Provide
    Arbitrary<Long> waits() {
        return Arbitraries.oneOf(Arbitraries.of(-1L, 0L, 1L, 100L, 300_000L, 300_001L, Long.MAX_VALUE, Long.MIN_VALUE),
                Arbitraries.longs().between(-1000, 1000));
    }

    @Provide
    Arbitrary<String> replayRunIds() {
        return ids(Arbitraries.of(replayRunIds));
    }

    @Provide
    Arbitrary<String> fromSteps() {
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of("", "only")), Tuple.of(1, Arbitraries.of("nope", "ONLY", " only")),
                Tuple.of(1, FuzzSupport.nastyString()), Tuple.of(1, Arbitraries.integers().between(200, 50_000).map(n -> "s".repeat(n))));
    }

    @Provide
    Arbitrary<Gen<ReplayRunsRequest>> replayFilters() {
        Arbitrary<Gen<String>> workflow = Arbitraries.frequencyOf(Tuple.of(6, choice(VALID, WF_REPLAY)), Tuple.of(1, choice(INVALID, "")),
                Tuple.of(1, nasty(EITHER)), Tuple.of(1, longString("w", 200, 50_000, EITHER)));
        Arbitrary<Gen<Integer>> status = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of(0, 3, 4, 5).map(s -> new Gen<>(s, VALID, "status=" + s))),
                Tuple.of(2, Arbitraries.of(1, 2, -1, 6, 1000, Integer.MIN_VALUE, Integer.MAX_VALUE).map(s -> new Gen<>(s, INVALID, "status=" + s))));
        Arbitrary<Long> time = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(0L)),
                Tuple.of(2, Arbitraries.of(1L, NOW, NOW + 86_400_000L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 253402300800000L)),
                Tuple.of(1, Arbitraries.longs()));
        Arbitrary<Gen<Integer>> limit = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of(0, 1, 2, 10_000).map(l -> new Gen<>(l, VALID, "limit=" + l))),
                Tuple.of(1, Arbitraries.of(-1, 10_001, Integer.MIN_VALUE, Integer.MAX_VALUE).map(l -> new Gen<>(l, INVALID, "limit=" + l))));
        return Combinators.combine(workflow, status, time, time, metadataMaps(), limit).as((w, s, after, before, m, l) -> {
            ReplayRunsRequest r = ReplayRunsRequest.newBuilder().setWorkflowName(w.value()).setStatusValue(s.value()).setCreatedAfterMs(after)
                    .setCreatedBeforeMs(before).putAllMetadata(m.value()).setLimit(l.value()).build();
            // Reserved "drover." keys are fine in a filter (they select cron and schedule runs).
            Expect me = m.expect() == INVALID ? VALID : m.expect();
            Expect e = w.expect().and(s.expect()).and(me).and(l.expect());
            if (after < 0 || before < 0) e = e.and(EITHER);
            return gen(r, e);
        });
    }

    /** Task ids far from any real task (negative, 0, huge), so that nothing generated can touch other tests' steps. */
    static Arbitrary<Long> farTaskIds() {
        return Arbitraries.oneOf(Arbitraries.of(0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE),
                Arbitraries.longs().between(1_000_000_000_000L, Long.MAX_VALUE), Arbitraries.longs().lessOrEqual(-1));
    }

    @Provide
    Arbitrary<List<AttemptRef>> attemptRefs() {
        Arbitrary<Integer> anyInt = Arbitraries.oneOf(Arbitraries.of(0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE), Arbitraries.integers());
        return Combinators.combine(farTaskIds(), anyInt, anyInt)
                .as((t, a, c) -> AttemptRef.newBuilder().setTaskId(t).setAttempt(a).setSlotCost(c).build()).list().ofMaxSize(8);
    }
}
