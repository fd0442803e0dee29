package dev.drover.sdk.internal;

import dev.drover.proto.v1.RetryPolicy;
import dev.drover.proto.v1.StepDefinition;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.List;

/**
 * A step as read from its {@code @Step} method, validated, with durations in milliseconds.
 *
 * <pre>{@code
 * StepModel s = Definitions.fromClass(OrderWorkflow.class).step("charge");
 * }</pre>
 *
 * @param name step name
 * @param parents parent step names, in declaration order
 * @param maxAttempts total attempts (>= 1)
 * @param initialBackoffMs first retry delay (> 0)
 * @param backoffMultiplier growth per attempt (>= 1)
 * @param maxBackoffMs cap on the retry delay
 * @param executionTimeoutMs per-attempt time limit, 0 = none
 * @param scheduleToStartTimeoutMs queue time limit, 0 = none
 * @param slots slot cost of an attempt (>= 1)
 * @param method the annotated method
 * @param contextIndex index of the {@code StepContext} parameter, or -1
 * @param inputIndex index of the input parameter, or -1
 * @param inputType generic type of the input parameter, or {@code null}
 * @param durable waits, skip condition and on-failure role ({@link Durable#NONE} for a plain step)
 */
public record StepModel(
    String name,
    List<String> parents,
    int maxAttempts,
    long initialBackoffMs,
    double backoffMultiplier,
    long maxBackoffMs,
    long executionTimeoutMs,
    long scheduleToStartTimeoutMs,
    int slots,
    Method method,
    int contextIndex,
    int inputIndex,
    Type inputType,
    Durable durable) {

  /**
   * The durable parts of a step: what it waits for and when it is skipped.
   *
   * @param skipIf CEL skip condition, or empty
   * @param sleepMs durable sleep before running, 0 = none
   * @param waitEvent event name to wait for, or empty
   * @param waitMatch CEL condition on the event, or empty
   * @param waitTimeoutMs event wait timeout, 0 = none
   * @param continueOnTimeout run anyway when the wait times out
   * @param onFailure this is the workflow's on-failure step
   */
  public record Durable(
      String skipIf,
      long sleepMs,
      String waitEvent,
      String waitMatch,
      long waitTimeoutMs,
      boolean continueOnTimeout,
      boolean onFailure) {
    /** A plain step. */
    public static final Durable NONE = new Durable("", 0, "", "", 0, false, false);

    boolean waits() {
      return sleepMs > 0 || !waitEvent.isEmpty();
    }
  }

  /** Copies the parents so the record stays immutable. */
  public StepModel {
    parents = List.copyOf(parents);
  }

  /** The wire form sent on Register. */
  public StepDefinition toProto() {
    StepDefinition.Builder b = StepDefinition.newBuilder()
        .setName(name)
        .addAllParents(parents)
        .setRetry(
            RetryPolicy.newBuilder()
                .setMaxAttempts(maxAttempts)
                .setInitialBackoffMs(initialBackoffMs)
                .setBackoffMultiplier(backoffMultiplier)
                .setMaxBackoffMs(maxBackoffMs))
        .setExecutionTimeoutMs(executionTimeoutMs)
        .setScheduleToStartTimeoutMs(scheduleToStartTimeoutMs)
        .setSlotCost(slots);
    if (durable.waits()) {
      b.setWait(
          dev.drover.proto.v1.WaitCondition.newBuilder()
              .setSleepMs(durable.sleepMs())
              .setEvent(durable.waitEvent())
              .setMatch(durable.waitMatch())
              .setTimeoutMs(durable.waitTimeoutMs())
              .setOnTimeout(durable.continueOnTimeout() ? "continue" : "fail"));
    }
    b.addAllRateLimits(Definitions.rateLimits(method, "step '" + name + "'"));
    int priority = method.getAnnotation(dev.drover.sdk.Step.class).priority();
    return b.setSkipIf(durable.skipIf()).setPriority(priority).build();
  }
}
