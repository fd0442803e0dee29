package dev.drover.sdk.internal;

import dev.drover.sdk.RunHandle;
import java.util.List;

/**
 * Triggers child runs for a step (implemented by the client whose connection the worker shares).
 *
 * <pre>{@code
 * List<RunHandle> kids = spawner.spawn(runId, "fan-out", 0, "resize", List.of("{\"n\":1}"));
 * }</pre>
 */
@FunctionalInterface
public interface Spawner {
  /**
   * Triggers one child of {@code workflowName} per JSON input, with child indexes {@code firstIndex},
   * {@code firstIndex + 1}, ... under ({@code parentRunId}, {@code parentStep}), in one atomic call.
   */
  List<RunHandle> spawn(
      String parentRunId, String parentStep, int firstIndex, String workflowName, List<String> inputsJson);
}
