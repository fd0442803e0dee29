package dev.drover.sdk;

import java.time.Instant;
import java.util.Map;

/**
 * A one-time schedule: run a workflow with an input at an instant.
 *
 * <pre>{@code
 * ScheduleInfo s = client.schedule("reminder", Map.of("user", "u-1"), Instant.parse("2030-01-31T07:00:00Z"));
 * ...
 * String runId = client.getSchedule(s.id()).runId(); // once fired
 * }</pre>
 *
 * @param id schedule id (UUID)
 * @param workflowName the workflow it starts
 * @param inputJson the run's input as JSON text
 * @param metadata added to the run's metadata
 * @param fireAt when it fires (database clock)
 * @param status where it is in its life
 * @param runId the run it started, once fired
 * @param firedAt when it fired (database clock)
 * @param error why it failed, when {@link ScheduleStatus#FAILED}
 * @param createdAt creation time
 */
public record ScheduleInfo(
    String id,
    String workflowName,
    String inputJson,
    Map<String, String> metadata,
    Instant fireAt,
    ScheduleStatus status,
    String runId,
    Instant firedAt,
    String error,
    Instant createdAt) {

  /** Copies the metadata so the record stays immutable. */
  public ScheduleInfo {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }
}
