package dev.drover.server.transport.grpc;

import dev.drover.proto.v1.Run;
import dev.drover.proto.v1.RunStatus;
import dev.drover.proto.v1.StepRun;
import dev.drover.proto.v1.StepStatus;
import dev.drover.server.engine.Views.RunView;
import dev.drover.server.engine.Views.StepView;
import java.time.Instant;

/** Engine views to protocol messages. */
final class ProtoMapper {
    private ProtoMapper() {}

    static Run run(RunView r) {
        Run.Builder b = Run.newBuilder()
                .setId(r.id()).setWorkflowName(r.workflowName()).setWorkflowVersion(r.workflowVersion())
                .setStatus(runStatus(r.status())).setInputJson(nz(r.inputJson())).setOutputJson(nz(r.outputJson()))
                .setError(nz(r.error())).putAllMetadata(r.metadata()).setCreatedAtMs(ms(r.createdAt()))
                .setStartedAtMs(ms(r.startedAt())).setFinishedAtMs(ms(r.finishedAt())).setPriority(r.priority())
                .setParentRunId(nz(r.parentRunId())).setIdempotencyKey(nz(r.idempotencyKey()))
                .setEventId(nz(r.eventId())).setParentStep(nz(r.parentStep()))
                .setChildIndex(r.childIndex() == null ? 0 : r.childIndex());
        for (StepView s : r.steps()) b.addSteps(step(s));
        return b.build();
    }

    static StepRun step(StepView s) {
        return StepRun.newBuilder().setName(s.name()).setStatus(stepStatus(s.status())).setAttempts(s.attempts())
                .setOutputJson(nz(s.outputJson())).setError(nz(s.error())).setWorkerId(nz(s.workerId()))
                .setStartedAtMs(ms(s.startedAt())).setFinishedAtMs(ms(s.finishedAt())).addAllParents(s.parents()).build();
    }

    static RunStatus runStatus(String s) {
        return switch (s) {
            case "queued" -> RunStatus.RUN_STATUS_QUEUED;
            case "running" -> RunStatus.RUN_STATUS_RUNNING;
            case "succeeded" -> RunStatus.RUN_STATUS_SUCCEEDED;
            case "failed" -> RunStatus.RUN_STATUS_FAILED;
            case "cancelled" -> RunStatus.RUN_STATUS_CANCELLED;
            default -> RunStatus.RUN_STATUS_UNSPECIFIED;
        };
    }

    /** Null for UNSPECIFIED (no filter). */
    static String runStatus(RunStatus s) {
        return switch (s) {
            case RUN_STATUS_QUEUED -> "queued";
            case RUN_STATUS_RUNNING -> "running";
            case RUN_STATUS_SUCCEEDED -> "succeeded";
            case RUN_STATUS_FAILED -> "failed";
            case RUN_STATUS_CANCELLED -> "cancelled";
            default -> null;
        };
    }

    static StepStatus stepStatus(String s) {
        return switch (s) {
            case "pending" -> StepStatus.STEP_STATUS_PENDING;
            case "queued" -> StepStatus.STEP_STATUS_QUEUED;
            case "running" -> StepStatus.STEP_STATUS_RUNNING;
            case "succeeded" -> StepStatus.STEP_STATUS_SUCCEEDED;
            case "failed" -> StepStatus.STEP_STATUS_FAILED;
            case "cancelled" -> StepStatus.STEP_STATUS_CANCELLED;
            case "waiting" -> StepStatus.STEP_STATUS_WAITING;
            case "skipped" -> StepStatus.STEP_STATUS_SKIPPED;
            default -> StepStatus.STEP_STATUS_UNSPECIFIED;
        };
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static long ms(Instant i) {
        return i == null ? 0 : i.toEpochMilli();
    }
}
