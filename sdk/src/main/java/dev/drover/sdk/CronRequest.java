package dev.drover.sdk;

import java.util.Map;
import java.util.Objects;

/**
 * A cron to create at run time with {@link DroverClient#createCron(CronRequest)}; immutable, built
 * with "withers".
 *
 * <pre>{@code
 * CronInfo c = client.createCron(CronRequest.of("report", "0 7 * * *")
 *     .withName("morning").withTimeZone("Europe/Berlin").withInput(Map.of("kind", "daily")));
 * }</pre>
 *
 * @param workflowName a registered workflow; runs use its latest version
 * @param expression 5 fields, or 6 with seconds first (see {@link Cron})
 * @param timeZone IANA zone; {@code null} = UTC
 * @param name unique per workflow; {@code null} = derived from the expression
 * @param input any Jackson-serializable value, the input of every run; {@code null} = {}
 * @param metadata added to every run's metadata
 * @param missedTicks policy for ticks missed while no server ran
 * @param paused create it paused
 */
public record CronRequest(
    String workflowName,
    String expression,
    String timeZone,
    String name,
    Object input,
    Map<String, String> metadata,
    MissedTicks missedTicks,
    boolean paused) {

  /** Checks the required fields and copies the metadata. */
  public CronRequest {
    Objects.requireNonNull(workflowName, "workflowName");
    Objects.requireNonNull(expression, "expression");
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    missedTicks = missedTicks == null ? MissedTicks.FIRE_ONCE : missedTicks;
  }

  /** A cron of {@code workflowName} in UTC, input {}, default name and policy. */
  public static CronRequest of(String workflowName, String expression) {
    return new CronRequest(workflowName, expression, null, null, null, Map.of(), MissedTicks.FIRE_ONCE, false);
  }

  /** A copy with this name. */
  public CronRequest withName(String newName) {
    return new CronRequest(workflowName, expression, timeZone, newName, input, metadata, missedTicks, paused);
  }

  /** A copy in this IANA time zone. */
  public CronRequest withTimeZone(String zone) {
    return new CronRequest(workflowName, expression, zone, name, input, metadata, missedTicks, paused);
  }

  /** A copy with this input (serialized with Jackson). */
  public CronRequest withInput(Object newInput) {
    return new CronRequest(workflowName, expression, timeZone, name, newInput, metadata, missedTicks, paused);
  }

  /** A copy with this metadata. */
  public CronRequest withMetadata(Map<String, String> newMetadata) {
    return new CronRequest(workflowName, expression, timeZone, name, input, newMetadata, missedTicks, paused);
  }

  /** A copy with this missed-tick policy. */
  public CronRequest withMissedTicks(MissedTicks policy) {
    return new CronRequest(workflowName, expression, timeZone, name, input, metadata, policy, paused);
  }

  /** A copy created paused (it fires nothing until resumed). */
  public CronRequest withPaused(boolean newPaused) {
    return new CronRequest(workflowName, expression, timeZone, name, input, metadata, missedTicks, newPaused);
  }
}
