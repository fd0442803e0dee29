package dev.drover.sdk;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a public method of a {@link Workflow} class as a step.
 *
 * <p>A step method may declare, in any order, a {@link StepContext} parameter and at most one
 * other parameter, which receives the run's input deserialized with Jackson to that parameter's
 * (generic) type. The return value, serialized with Jackson, is the step's output ({@code void}
 * yields JSON {@code null}). Parents' outputs are available through
 * {@link StepContext#parentOutput(String, Class)}.
 *
 * <p>Durations are written as {@code "250ms"}, {@code "30s"}, {@code "5m"}, {@code "1h"},
 * {@code "1d"} or ISO-8601 ({@code "PT30S"}); an empty string means "none" for the timeouts.
 *
 * <pre>{@code
 * @Step(parents = "validate", maxAttempts = 5, initialBackoff = "500ms", executionTimeout = "30s")
 * public Receipt charge(Order order, StepContext ctx) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Step {
  /** Step name, unique within the workflow; defaults to the method name. */
  String name() default "";

  /** Names (not method names) of the steps that must succeed before this one; empty = root. */
  String[] parents() default {};

  /** Total attempts including the first (at least 1). */
  int maxAttempts() default 1;

  /** Delay before the second attempt. */
  String initialBackoff() default "1s";

  /** Growth of the delay per attempt (at least 1.0). */
  double backoffMultiplier() default 2.0;

  /** Cap on the retry delay. */
  String maxBackoff() default "60s";

  /** Maximum time one attempt may run; {@code ""} = no limit. */
  String executionTimeout() default "";

  /** Maximum time the step may wait in the queue before an attempt starts; {@code ""} = no limit. */
  String scheduleToStartTimeout() default "";

  /** Worker slots one attempt occupies (at least 1). */
  int slots() default 1;
}
