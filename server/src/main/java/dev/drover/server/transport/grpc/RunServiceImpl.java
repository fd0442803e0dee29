package dev.drover.server.transport.grpc;

import dev.drover.proto.v1.AwaitRunRequest;
import dev.drover.proto.v1.CancelRunRequest;
import dev.drover.proto.v1.CancelRunResponse;
import dev.drover.proto.v1.GetRunRequest;
import dev.drover.proto.v1.ItemError;
import dev.drover.proto.v1.ListRunsRequest;
import dev.drover.proto.v1.ListRunsResponse;
import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.PutWorkflowResponse;
import dev.drover.proto.v1.Run;
import dev.drover.proto.v1.RunServiceGrpc;
import dev.drover.proto.v1.TriggerRunRequest;
import dev.drover.proto.v1.TriggerRunResponse;
import dev.drover.proto.v1.TriggerRunsRequest;
import dev.drover.proto.v1.TriggerRunsResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineException;
import dev.drover.server.engine.Runs;
import dev.drover.server.engine.Views.TriggerCommand;
import dev.drover.server.engine.Views.TriggerResult;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;

/**
 * The client API over gRPC. Handlers run on virtual threads, so blocking on the database is fine;
 * except {@link #triggerRun}, which runs on the transport's event loop (see {@link GrpcTransport}).
 */
final class RunServiceImpl extends RunServiceGrpc.RunServiceImplBase {
    private final Engine engine;
    private final java.util.concurrent.Executor blocking;
    /** Inputs up to this many chars are checked on the event loop (a few µs); bigger ones on a handler thread. */
    static final int LOOP_INPUT_MAX = 16 * 1024;

    RunServiceImpl(Engine engine, java.util.concurrent.Executor blocking) {
        this.engine = engine;
        this.blocking = blocking;
    }

    private static String tenant() {
        return AuthInterceptor.TENANT.get();
    }

    /**
     * Runs on the event loop that read the request: the trigger is queued for the group-commit writer
     * and answered from the writer's thread when it is durable, so no thread is woken just to pass the
     * request on (one hand-off less on the way from the call to the step's start). A trigger that would
     * wait on the database before it is queued (a child run, whose parent is read first, or a workflow
     * not yet known to this server), or whose input is big, moves to a handler thread.
     */
    @Override
    public void triggerRun(TriggerRunRequest req, StreamObserver<TriggerRunResponse> out) {
        TriggerCommand cmd;
        try {
            cmd = command(req);
        } catch (RuntimeException e) {
            out.onError(Statuses.toStatus(e));
            return;
        }
        // A big input takes a while to check (JSON, size): not on the loop, whose other calls would wait.
        if (req.getInputJson().length() > LOOP_INPUT_MAX || !engine.runs().submitsWithoutWaiting(cmd)) {
            blocking.execute(io.grpc.Context.current().wrap(() -> Statuses.unary(out, () -> response(engine.runs().trigger(cmd)))));
            return;
        }
        engine.runs().submitIndependent(cmd).whenComplete((r, e) -> {
            if (e != null) {
                out.onError(Statuses.toStatus(e instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                        ? c.getCause() : e));
                return;
            }
            out.onNext(response(r));
            out.onCompleted();
        });
    }

    private static TriggerRunResponse response(TriggerResult r) {
        return TriggerRunResponse.newBuilder().setRunId(r.runId()).setCreated(r.created()).build();
    }

    @Override
    public void triggerRuns(TriggerRunsRequest req, StreamObserver<TriggerRunsResponse> out) {
        Statuses.unary(out, () -> {
            if (req.getRunsCount() == 0) throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "runs: must not be empty");
            if (req.getRunsCount() > 10_000) {
                throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "runs: at most 10000 per call, got " + req.getRunsCount());
            }
            if (req.getIndependent()) return independent(req);
            List<TriggerCommand> cmds = new ArrayList<>(req.getRunsCount());
            for (int i = 0; i < req.getRunsCount(); i++) {
                cmds.add(command(req.getRuns(i)));
            }
            TriggerRunsResponse.Builder b = TriggerRunsResponse.newBuilder();
            for (TriggerResult t : engine.runs().triggerAll(cmds)) {
                b.addRuns(TriggerRunResponse.newBuilder().setRunId(t.runId()).setCreated(t.created()));
            }
            return b.build();
        });
    }

    /**
     * Items that stand alone (a client's concurrent single triggers sharing one message): each goes to
     * the group-commit writer like a TriggerRun call's, so they share its one-statement groups with every
     * other caller's, and each gets its own answer.
     */
    private TriggerRunsResponse independent(TriggerRunsRequest req) {
        List<CompletableFuture<TriggerResult>> pending = new ArrayList<>(req.getRunsCount());
        for (int i = 0; i < req.getRunsCount(); i++) {
            TriggerCommand cmd;
            try {
                cmd = command(req.getRuns(i));
            } catch (RuntimeException e) {
                pending.add(CompletableFuture.failedFuture(e));
                continue;
            }
            pending.add(engine.runs().submitIndependent(cmd));
        }
        TriggerRunsResponse.Builder b = TriggerRunsResponse.newBuilder();
        for (var f : pending) {
            try {
                TriggerResult t = Runs.await(f);
                b.addRuns(TriggerRunResponse.newBuilder().setRunId(t.runId()).setCreated(t.created()));
            } catch (RuntimeException e) {
                Status s = Statuses.toStatus(e).getStatus();
                b.addRuns(TriggerRunResponse.newBuilder().setError(ItemError.newBuilder()
                        .setCode(s.getCode().value()).setMessage(s.getDescription() == null ? s.getCode().name() : s.getDescription())));
            }
        }
        return b.build();
    }

    private static TriggerCommand command(TriggerRunRequest r) {
        TriggerCommand c = new TriggerCommand(tenant(), r.getWorkflowName(), r.getWorkflowVersion(), r.getInputJson(),
                r.getMetadataMap(), r.getIdempotencyKey(), r.getPriority(), r.getRunId());
        if (r.getParentRunId().isEmpty()) {
            if (!r.getParentStep().isEmpty()) {
                throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "parent_step: needs parent_run_id");
            }
            return c;
        }
        return c.withLink(new dev.drover.server.engine.Views.Link(r.getParentRunId(), r.getParentStep(), r.getChildIndex(), null));
    }

    @Override
    public void replayRun(dev.drover.proto.v1.ReplayRunRequest req, StreamObserver<dev.drover.proto.v1.ReplayRunResponse> out) {
        Statuses.unary(out, () -> {
            engine.replays().replay(tenant(), req.getRunId(), req.getFromStep());
            return dev.drover.proto.v1.ReplayRunResponse.newBuilder()
                    .setRun(ProtoMapper.run(engine.runs().get(tenant(), req.getRunId()))).build();
        });
    }

    @Override
    public void replayRuns(dev.drover.proto.v1.ReplayRunsRequest req, StreamObserver<dev.drover.proto.v1.ReplayRunsResponse> out) {
        Statuses.unary(out, () -> {
            if (req.getStatus() == dev.drover.proto.v1.RunStatus.UNRECOGNIZED) {
                throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "status: unknown value " + req.getStatusValue());
            }
            if (req.getCreatedAfterMs() < 0 || req.getCreatedBeforeMs() < 0) {
                throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "created_after_ms: must not be negative");
            }
            List<String> ids = engine.replays().replayMatching(tenant(), req.getWorkflowName(), ProtoMapper.runStatus(req.getStatus()),
                    req.getCreatedAfterMs() == 0 ? null : java.time.Instant.ofEpochMilli(req.getCreatedAfterMs()),
                    req.getCreatedBeforeMs() == 0 ? null : java.time.Instant.ofEpochMilli(req.getCreatedBeforeMs()),
                    req.getMetadataMap(), req.getFromStep(), req.getLimit());
            return dev.drover.proto.v1.ReplayRunsResponse.newBuilder().addAllRunIds(ids).build();
        });
    }

    @Override
    public void getRun(GetRunRequest req, StreamObserver<Run> out) {
        Statuses.unary(out, () -> ProtoMapper.run(engine.runs().get(tenant(), req.getRunId())));
    }

    @Override
    public void awaitRun(AwaitRunRequest req, StreamObserver<Run> out) {
        Statuses.unary(out, () -> {
            if (req.getTimeoutMs() < 0) throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "timeout_ms: must not be negative");
            long ms = req.getTimeoutMs() == 0 ? 30_000 : Math.min(req.getTimeoutMs(), 300_000);
            return ProtoMapper.run(engine.runs().await(tenant(), req.getRunId(), Duration.ofMillis(ms)));
        });
    }

    @Override
    public void listRuns(ListRunsRequest req, StreamObserver<ListRunsResponse> out) {
        Statuses.unary(out, () -> {
            if (req.getStatus() == dev.drover.proto.v1.RunStatus.UNRECOGNIZED) {
                throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "status: unknown value " + req.getStatusValue());
            }
            ListRunsResponse.Builder b = ListRunsResponse.newBuilder();
            engine.runs().list(tenant(), req.getWorkflowName(), ProtoMapper.runStatus(req.getStatus()),
                    req.getBeforeRunId(), req.getLimit()).forEach(r -> b.addRuns(ProtoMapper.run(r)));
            return b.build();
        });
    }

    @Override
    public void cancelRun(CancelRunRequest req, StreamObserver<CancelRunResponse> out) {
        Statuses.unary(out, () -> {
            boolean cancelled = engine.runs().cancel(tenant(), req.getRunId());
            var run = engine.runs().get(tenant(), req.getRunId());
            return CancelRunResponse.newBuilder().setCancelled(cancelled).setStatus(ProtoMapper.runStatus(run.status())).build();
        });
    }

    @Override
    public void putWorkflow(PutWorkflowRequest req, StreamObserver<PutWorkflowResponse> out) {
        Statuses.unary(out, () -> {
            if (!req.hasWorkflow()) throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "workflow: required");
            engine.workflows().register(tenant(), req.getWorkflow());
            return PutWorkflowResponse.getDefaultInstance();
        });
    }
}
