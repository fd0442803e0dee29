package dev.drover.sdk.internal;

import dev.drover.proto.v1.Run;
import dev.drover.proto.v1.StepRun;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.StepInfo;
import dev.drover.sdk.StepStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Conversions between generated protobuf types and the public SDK types, kept here so that no
 * generated type leaks into the public API.
 *
 * <pre>{@code
 * RunInfo info = Protos.toRunInfo(stub.getRun(request));
 * }</pre>
 */
public final class Protos {
  private Protos() {}

  /** Converts a wire run. */
  public static RunInfo toRunInfo(Run r) {
    List<StepInfo> steps = new ArrayList<>(r.getStepsCount());
    for (StepRun s : r.getStepsList()) {
      steps.add(
          new StepInfo(
              s.getName(),
              toStepStatus(s.getStatus()),
              s.getAttempts(),
              emptyToNull(s.getOutputJson()),
              emptyToNull(s.getError()),
              emptyToNull(s.getWorkerId()),
              instant(s.getStartedAtMs()),
              instant(s.getFinishedAtMs()),
              s.getParentsList()));
    }
    return new RunInfo(
        r.getId(),
        r.getWorkflowName(),
        r.getWorkflowVersion(),
        toRunStatus(r.getStatus()),
        emptyToNull(r.getInputJson()),
        emptyToNull(r.getOutputJson()),
        emptyToNull(r.getError()),
        r.getMetadataMap(),
        instant(r.getCreatedAtMs()),
        instant(r.getStartedAtMs()),
        instant(r.getFinishedAtMs()),
        steps,
        emptyToNull(r.getParentRunId()),
        emptyToNull(r.getEventId()));
  }

  /** Converts a wire run status; UNSPECIFIED (never sent by a correct server) maps to QUEUED. */
  public static RunStatus toRunStatus(dev.drover.proto.v1.RunStatus s) {
    return switch (s) {
      case RUN_STATUS_RUNNING -> RunStatus.RUNNING;
      case RUN_STATUS_SUCCEEDED -> RunStatus.SUCCEEDED;
      case RUN_STATUS_FAILED -> RunStatus.FAILED;
      case RUN_STATUS_CANCELLED -> RunStatus.CANCELLED;
      default -> RunStatus.QUEUED;
    };
  }

  /** Converts a public run status to the wire form ({@code null} = no filter). */
  public static dev.drover.proto.v1.RunStatus toProto(RunStatus s) {
    if (s == null) {
      return dev.drover.proto.v1.RunStatus.RUN_STATUS_UNSPECIFIED;
    }
    return switch (s) {
      case QUEUED -> dev.drover.proto.v1.RunStatus.RUN_STATUS_QUEUED;
      case RUNNING -> dev.drover.proto.v1.RunStatus.RUN_STATUS_RUNNING;
      case SUCCEEDED -> dev.drover.proto.v1.RunStatus.RUN_STATUS_SUCCEEDED;
      case FAILED -> dev.drover.proto.v1.RunStatus.RUN_STATUS_FAILED;
      case CANCELLED -> dev.drover.proto.v1.RunStatus.RUN_STATUS_CANCELLED;
    };
  }

  /** Converts a wire step status; UNSPECIFIED maps to PENDING. */
  public static StepStatus toStepStatus(dev.drover.proto.v1.StepStatus s) {
    return switch (s) {
      case STEP_STATUS_QUEUED -> StepStatus.QUEUED;
      case STEP_STATUS_RUNNING -> StepStatus.RUNNING;
      case STEP_STATUS_SUCCEEDED -> StepStatus.SUCCEEDED;
      case STEP_STATUS_FAILED -> StepStatus.FAILED;
      case STEP_STATUS_CANCELLED -> StepStatus.CANCELLED;
      case STEP_STATUS_WAITING -> StepStatus.WAITING;
      case STEP_STATUS_SKIPPED -> StepStatus.SKIPPED;
      default -> StepStatus.PENDING;
    };
  }

  /** Maps a gRPC failure to the public exception, keeping the server's message. */
  public static DroverException toDroverException(StatusRuntimeException e) {
    Status st = e.getStatus();
    DroverException.Code code = toCode(st.getCode());
    String message = st.getDescription() != null ? st.getDescription() : st.getCode().name();
    if (st.getCause() != null && st.getDescription() == null) {
      message = st.getCode().name() + ": " + st.getCause().getMessage();
    }
    return new DroverException(code, message, e);
  }

  /** Maps a gRPC status code to the public code. */
  public static DroverException.Code toCode(Status.Code c) {
    return switch (c) {
      case INVALID_ARGUMENT -> DroverException.Code.INVALID_ARGUMENT;
      case NOT_FOUND -> DroverException.Code.NOT_FOUND;
      case UNAUTHENTICATED -> DroverException.Code.UNAUTHENTICATED;
      case UNAVAILABLE -> DroverException.Code.UNAVAILABLE;
      case ALREADY_EXISTS -> DroverException.Code.ALREADY_EXISTS;
      case FAILED_PRECONDITION -> DroverException.Code.FAILED_PRECONDITION;
      case INTERNAL -> DroverException.Code.INTERNAL;
      case DEADLINE_EXCEEDED -> DroverException.Code.DEADLINE_EXCEEDED;
      default -> DroverException.Code.OTHER;
    };
  }

  static Instant instant(long epochMs) {
    return epochMs == 0 ? null : Instant.ofEpochMilli(epochMs);
  }

  static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
