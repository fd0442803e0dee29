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
    Type inputType) {

  /** Copies the parents so the record stays immutable. */
  public StepModel {
    parents = List.copyOf(parents);
  }

  /** The wire form sent on Register. */
  public StepDefinition toProto() {
    return StepDefinition.newBuilder()
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
        .setSlotCost(slots)
        .build();
  }
}
