package dev.drover.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;

/**
 * What a step attempt knows about itself: identity, input, parents' outputs and cancellation.
 * Declare it as a parameter of a {@link Step} method.
 *
 * <pre>{@code
 * @Step(parents = "validate")
 * public Receipt charge(StepContext ctx) {
 *   Order order = ctx.parentOutput("validate", Order.class);
 *   ctx.log().info("charging {} (attempt {}/{})", order.id(), ctx.attempt(), ctx.maxAttempts());
 *   ctx.throwIfCancelled();
 *   return payments.charge(order);
 * }
 * }</pre>
 */
public interface StepContext {
  /** The run's id. */
  String runId();

  /** This step's name. */
  String stepName();

  /** The workflow's name. */
  String workflowName();

  /** The attempt number, starting at 1. */
  int attempt();

  /** Total attempts the step may take. */
  int maxAttempts();

  /** The run's metadata. */
  Map<String, String> metadata();

  /**
   * The run's input deserialized to {@code type}.
   *
   * @throws NonRetryableException when the input does not match {@code type} (retrying cannot help)
   */
  <T> T input(Class<T> type);

  /**
   * The output of parent step {@code stepName} deserialized to {@code type}.
   *
   * @throws IllegalArgumentException when {@code stepName} is not a parent of this step
   * @throws NonRetryableException when the output does not match {@code type}
   */
  <T> T parentOutput(String stepName, Class<T> type);

  /** The run's input as a JSON tree ({@code NullNode} when empty). */
  JsonNode inputJson();

  /** Parent step name to its output as a JSON tree. */
  Map<String, JsonNode> parentOutputs();

  /** Whether this attempt was cancelled (run cancelled, timeout, or worker shutdown). */
  boolean isCancelled();

  /**
   * Throws {@link StepCancelledException} if this attempt was cancelled; call it at safe points of
   * long-running work. The worker also interrupts the step's thread on cancel.
   */
  void throwIfCancelled();

  /** A logger named {@code drover.step.<workflow>.<step>}. */
  Logger log();

  /**
   * Spawns a child run of {@code workflowName} with {@code input}, linked to this run and step.
   * Children are numbered in spawn order within the attempt; spawning the same index again (a
   * retried attempt that spawns in the same order) returns the existing child instead of creating a
   * second one. Cancelling or failing this run cancels its unfinished children.
   *
   * <pre>{@code
   * RunHandle child = ctx.spawn("resize-image", Map.of("url", url));
   * Thumbnail t = child.result(Thumbnail.class).join();
   * }</pre>
   */
  RunHandle spawn(String workflowName, Object input);

  /** {@link #spawn(String, Object)} for the workflow declared by {@code workflowClass}. */
  RunHandle spawn(Class<?> workflowClass, Object input);

  /**
   * Spawns one child per input in few calls (10,000 per call, each call atomic), numbered
   * consecutively; as idempotent as {@link #spawn(String, Object)}.
   */
  List<RunHandle> spawnMany(String workflowName, List<?> inputs);

  /**
   * The payload of the event this step waited for ({@code @Step(waitForEvent = ...)}), deserialized
   * to {@code type}; {@code null} when the step did not wait for an event or its wait timed out
   * with {@code onWaitTimeout = CONTINUE}.
   */
  <T> T event(Class<T> type);

  /** For the workflow's on-failure step: what failed. {@code null} in every other step. */
  StepFailure failure();

  /**
   * Tells the server that the upstream answered "too many requests" for {@code key} of the rate limit
   * {@code limitName}: no step draws from that key until {@code pauseFor} has passed (counted on the
   * server's clock; a longer pause already in place is kept). Then fail the attempt (throw): its retry
   * waits in the queue, holding no slot, until the pause ends.
   *
   * <pre>{@code
   * @Step(maxAttempts = 10)
   * @RateLimit(name = "carrier", key = "input.carrierId")
   * public Label ship(Shipment s, StepContext ctx) {
   *   HttpResponse<String> r = carrier.send(s);
   *   if (r.statusCode() == 429) {
   *     ctx.rateLimited("carrier", s.carrierId(), Duration.ofSeconds(retryAfter(r)));
   *     throw new IllegalStateException("carrier " + s.carrierId() + " is rate limiting us");
   *   }
   *   return parse(r);
   * }
   * }</pre>
   *
   * @param limitName an existing rate limit
   * @param key the bucket key ({@code null} or {@code ""} for the limit's global bucket)
   * @param pauseFor how long; {@code Duration.ZERO} lifts a pause
   * @throws DroverException NOT_FOUND when the limit does not exist, UNAVAILABLE when no server answers
   */
  void rateLimited(String limitName, String key, java.time.Duration pauseFor);

  /**
   * The rate limit units this attempt was granted, one per bucket its step draws from ({@code
   * @RateLimit}); empty when it declares none (or the server predates this information). Each names
   * the window, on the server's database clock, in which the units were counted: useful to log or
   * audit what the limiter decided.
   */
  default List<RateLimitGrant> rateLimitGrants() {
    return List.of();
  }
}
