package dev.drover.sdk;

import java.util.Objects;

/**
 * One run of a bulk trigger ({@link DroverClient#runMany}).
 *
 * <pre>{@code
 * List<RunHandle> runs = client.runMany(List.of(
 *     RunRequest.of("send-email", new Email("a@example.com")),
 *     RunRequest.of("send-email", new Email("b@example.com"), RunOptions.defaults().withIdempotencyKey("b"))));
 * }</pre>
 *
 * @param workflowName the workflow to run
 * @param input        any Jackson-serializable value (null means {})
 * @param options      idempotency key, metadata, priority, version
 */
public record RunRequest(String workflowName, Object input, RunOptions options) {
  public RunRequest {
    Objects.requireNonNull(workflowName, "workflowName");
    if (options == null) {
      options = RunOptions.defaults();
    }
  }

  /** A run of {@code workflowName} with default options. */
  public static RunRequest of(String workflowName, Object input) {
    return new RunRequest(workflowName, input, RunOptions.defaults());
  }

  /** A run of {@code workflowName} with the given options. */
  public static RunRequest of(String workflowName, Object input, RunOptions options) {
    return new RunRequest(workflowName, input, options);
  }
}
