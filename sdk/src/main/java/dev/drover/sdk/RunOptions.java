package dev.drover.sdk;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Optional settings for triggering a run; immutable, built with "withers".
 *
 * <pre>{@code
 * RunOptions opts = RunOptions.defaults()
 *     .withIdempotencyKey("order-42")
 *     .withMetadata(Map.of("tenant", "acme"))
 *     .withPriority(2);
 * client.run("order", order, opts);
 * }</pre>
 *
 * @param idempotencyKey when set, a second trigger with the same key returns the first run
 * @param metadata string metadata stored with the run and passed to steps
 * @param priority run priority; 0 = server default
 * @param workflowVersion version to run; {@code null} = the latest registered
 */
public record RunOptions(
    String idempotencyKey, Map<String, String> metadata, int priority, String workflowVersion) {

  private static final RunOptions DEFAULTS = new RunOptions(null, Map.of(), 0, null);

  /** Copies the metadata so the record stays immutable. */
  public RunOptions {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }

  /** No idempotency key, no metadata, default priority, latest version. */
  public static RunOptions defaults() {
    return DEFAULTS;
  }

  /** A copy with the given idempotency key ({@code null} clears it). */
  public RunOptions withIdempotencyKey(String key) {
    return new RunOptions(key, metadata, priority, workflowVersion);
  }

  /** A copy whose metadata is replaced by {@code newMetadata}. */
  public RunOptions withMetadata(Map<String, String> newMetadata) {
    return new RunOptions(idempotencyKey, newMetadata, priority, workflowVersion);
  }

  /** A copy with one more metadata entry. */
  public RunOptions withMetadata(String key, String value) {
    Map<String, String> m = new LinkedHashMap<>(metadata);
    m.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return new RunOptions(idempotencyKey, m, priority, workflowVersion);
  }

  /** A copy with the given priority. */
  public RunOptions withPriority(int newPriority) {
    return new RunOptions(idempotencyKey, metadata, newPriority, workflowVersion);
  }

  /** A copy pinned to the given workflow version ({@code null} = latest). */
  public RunOptions withWorkflowVersion(String version) {
    return new RunOptions(idempotencyKey, metadata, priority, version);
  }
}
