package dev.drover.sdk;

import dev.drover.sdk.internal.Json;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A snapshot of a run. Timestamps are {@code null} when not reached yet; JSON fields and
 * {@code error} are {@code null} when empty. {@code steps} is empty in {@link
 * DroverClient#listRuns} results.
 *
 * <pre>{@code
 * RunInfo run = client.awaitRun(id, Duration.ofMinutes(1));
 * if (run.status() == RunStatus.SUCCEEDED) { Receipt r = run.output(Receipt.class); }
 * }</pre>
 *
 * @param id run id (UUID)
 * @param workflowName workflow name
 * @param workflowVersion workflow version the run is pinned to
 * @param status current state
 * @param inputJson the run's input as JSON text
 * @param outputJson the run's output as JSON text when succeeded
 * @param error {@code "<step>: <message>"} when failed
 * @param metadata string metadata given at trigger time
 * @param createdAt creation time
 * @param startedAt time the first step started
 * @param finishedAt time the run reached a final state
 * @param steps the run's steps (GetRun/AwaitRun only)
 * @param parentRunId the parent run, for a child run spawned by a step; else {@code null}
 * @param eventId the event that started the run; else {@code null}
 */
public record RunInfo(
    String id,
    String workflowName,
    String workflowVersion,
    RunStatus status,
    String inputJson,
    String outputJson,
    String error,
    Map<String, String> metadata,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt,
    List<StepInfo> steps,
    String parentRunId,
    String eventId) {

  /** Copies collections so the record stays immutable. */
  public RunInfo {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    steps = steps == null ? List.of() : List.copyOf(steps);
  }

  /**
   * The run's output deserialized to {@code type}, or {@code null} when there is none.
   *
   * @throws IllegalArgumentException when the output does not match {@code type}
   */
  public <T> T output(Class<T> type) {
    return Json.read(outputJson, type, "output of run " + id);
  }

  /** The step with the given name, or {@code null}. */
  public StepInfo step(String name) {
    for (StepInfo s : steps) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    return null;
  }
}
