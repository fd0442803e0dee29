package dev.drover.sdk;

import java.time.Instant;
import java.util.Map;

/**
 * A cron as the server has it. Instants are {@code null} when not set.
 *
 * <pre>{@code
 * for (CronInfo c : client.listCrons("report")) {
 *   System.out.println(c.name() + " next " + c.nextFireAt() + " last run " + c.lastRunId());
 * }
 * }</pre>
 *
 * @param id cron id (UUID)
 * @param workflowName the workflow it starts
 * @param name unique per workflow
 * @param expression the cron expression
 * @param timeZone IANA zone of the expression
 * @param inputJson the input of every run, as JSON text
 * @param metadata added to every run's metadata
 * @param missedTicks policy for ticks missed while no server ran
 * @param paused whether it is paused
 * @param declaredByWorkflow true when declared with {@link Cron} (then it cannot be deleted, only paused)
 * @param nextFireAt the next tick; {@code null} while paused
 * @param lastTick the last tick that started a run
 * @param lastRunId that run
 * @param lastError why the last tick could not start a run, if it could not
 * @param createdAt creation time
 */
public record CronInfo(
    String id,
    String workflowName,
    String name,
    String expression,
    String timeZone,
    String inputJson,
    Map<String, String> metadata,
    MissedTicks missedTicks,
    boolean paused,
    boolean declaredByWorkflow,
    Instant nextFireAt,
    Instant lastTick,
    String lastRunId,
    String lastError,
    Instant createdAt) {

  /** Copies the metadata so the record stays immutable. */
  public CronInfo {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }
}
