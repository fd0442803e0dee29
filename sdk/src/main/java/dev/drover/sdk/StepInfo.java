package dev.drover.sdk;

import java.time.Instant;
import java.util.List;

/**
 * One step of a run as reported by the server. Timestamps are {@code null} when not reached yet.
 *
 * <pre>{@code
 * for (StepInfo s : client.getRun(id).steps()) System.out.println(s.name() + " " + s.status());
 * }</pre>
 *
 * @param name step name
 * @param status current state
 * @param attempts attempts started so far
 * @param outputJson output JSON text when succeeded, else {@code null}
 * @param error last error message, or {@code null}
 * @param workerId worker of the latest attempt, or {@code null}
 * @param startedAt start of the latest attempt
 * @param finishedAt end of the step
 * @param parents names of the parent steps
 */
public record StepInfo(
    String name,
    StepStatus status,
    int attempts,
    String outputJson,
    String error,
    String workerId,
    Instant startedAt,
    Instant finishedAt,
    List<String> parents) {

  /** Copies the parents list so the record stays immutable. */
  public StepInfo {
    parents = parents == null ? List.of() : List.copyOf(parents);
  }
}
