package dev.drover.sdk;

import com.fasterxml.jackson.databind.JsonNode;
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
}
