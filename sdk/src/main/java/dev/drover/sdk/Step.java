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
 *
 * // Durable waits hold no worker slot: the server keeps them in its database.
 * @Step(parents = "charge", waitForEvent = "payment.confirmed",
 *       waitMatch = "event.orderId == input.orderId", waitTimeout = "3d")
 * public void ship(Order order, StepContext ctx) { Confirmation c = ctx.event(Confirmation.class); ... }
 *
 * @Step(parents = "check", skipIf = "parents.check.amount < 100")
 * public void review(StepContext ctx) { ... }
 *
 * @Step(onFailure = true)   // runs when the run fails; see StepContext#failure()
 * public void alert(StepContext ctx) { ... }
 * }</pre>
 *
 * <p>Conditions ({@code skipIf}, {@code waitMatch}) are CEL expressions evaluated by the server:
 * {@code skipIf} reads {@code input} and {@code parents} (parent name to output), {@code waitMatch}
 * also reads {@code event} (the pushed event's payload).
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

  /**
   * Priority of this step's attempts, 1 (low) to 4 (high), overriding the run's; 0 = the run's. A
   * higher priority goes first in the queue, by up to 30 s of age per level (so lower priorities are
   * delayed, never starved).
   */
  int priority() default 0;

  /**
   * CEL condition over {@code input} and {@code parents}; when true the step is skipped (never runs,
   * counts as done for its children, output {@code null}). Empty = never skipped.
   */
  String skipIf() default "";

  /** Durable sleep before the step runs, once its parents are done (no slot held); {@code ""} = none. */
  String sleep() default "";

  /**
   * Name of an event the step waits for (after {@link #sleep()}, if any) before it runs; the event's
   * payload is then {@link StepContext#event(Class)}. No slot is held while waiting. {@code ""} = none.
   */
  String waitForEvent() default "";

  /** CEL condition the awaited event must meet, over {@code event}, {@code input} and {@code parents}. */
  String waitMatch() default "";

  /** How long to wait for the event; {@code ""} = forever. */
  String waitTimeout() default "";

  /** On wait timeout: {@code FAIL} the step (and run), or {@code CONTINUE} and run without an event. */
  WaitTimeout onWaitTimeout() default WaitTimeout.FAIL;

  /**
   * Marks the workflow's on-failure step: it has no parents, is not part of the DAG, and runs only
   * when a run fails, with the failure available as {@link StepContext#failure()}. At most one per workflow.
   */
  boolean onFailure() default false;

  /** What a step does when its event wait times out. */
  enum WaitTimeout {
    /** The step fails (without retry), and so does the run. */
    FAIL,
    /** The step runs anyway; {@link StepContext#event(Class)} returns {@code null}. */
    CONTINUE
  }
}
