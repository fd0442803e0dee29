package dev.drover.bench;

import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;

/**
 * A workflow that no benchmark worker serves: its runs stay queued. {@code backlog} pre-loads the
 * queue with it and {@code bulk} triggers it (so a later worker does not drain bulk's runs). Only
 * registered, never executed.
 */
@Workflow(name = UnservedWorkflow.NAME, version = "1", description = "drover bench: queued runs nobody serves")
public final class UnservedWorkflow {
  /** The workflow's name. */
  public static final String NAME = "bench-unserved";

  /** Creates the workflow (only its definition is used). */
  public UnservedWorkflow() {}

  /** Never runs in a benchmark. */
  @Step(name = "noop")
  public void noop(StepContext ctx) {}
}
