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
    b.addAllConcurrency(Definitions.concurrency(type, "workflow '" + name + "'"));
    for (StepModel s : steps) {
      b.addSteps(
          s.toProto().toBuilder()
              .addAllConcurrency(Definitions.concurrency(s.method(), "workflow '" + name + "', step '" + s.name() + "'"))
              .addAllAffinity(AffinityAnnotations.read(s.method(), "workflow '" + name + "', step '" + s.name() + "'")));
      if (s.durable().onFailure()) {
        b.setOnFailureStep(s.name());
      }
    }
    b.setSticky(AffinityAnnotations.sticky(type));
    Definitions.addEventTriggers(b, type);
    b.addAllCrons(CronAnnotations.read(type, "workflow '" + name + "'"));
    return b.build();
  }
}
