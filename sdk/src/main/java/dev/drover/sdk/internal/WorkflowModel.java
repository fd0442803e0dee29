package dev.drover.sdk.internal;

import dev.drover.proto.v1.WorkflowDefinition;
import java.util.List;

/**
 * A workflow as read from its {@code @Workflow} class; steps are in a deterministic topological
 * order (parents first, ties by name) so the same class always yields the same definition.
 *
 * <pre>{@code
 * WorkflowModel wf = Definitions.fromClass(OrderWorkflow.class);
 * }</pre>
 *
 * @param type the annotated class
 * @param name workflow name
 * @param version workflow version
 * @param description description
 * @param steps the steps, parents before children
 */
public record WorkflowModel(
    Class<?> type, String name, String version, String description, List<StepModel> steps) {

  /** Copies the steps so the record stays immutable. */
  public WorkflowModel {
    steps = List.copyOf(steps);
  }

  /** The step with the given name, or {@code null}. */
  public StepModel step(String stepName) {
    for (StepModel s : steps) {
      if (s.name().equals(stepName)) {
        return s;
      }
    }
    return null;
  }

  /** The wire form sent on Register. */
  public WorkflowDefinition toProto() {
    WorkflowDefinition.Builder b =
        WorkflowDefinition.newBuilder().setName(name).setVersion(version).setDescription(description);
    for (StepModel s : steps) {
      b.addSteps(s.toProto());
    }
    b.addAllCrons(CronAnnotations.read(type, "workflow '" + name + "'"));
    return b.build();
  }
}
