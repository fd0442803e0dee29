package dev.drover.bench;

import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;

/** One no-op step that reports to the {@link Probe} when it started and that its run is done. */
@Workflow(name = NoopWorkflow.NAME, version = "1", description = "drover bench: a single no-op step")
public final class NoopWorkflow {
  /** The workflow's name. */
  public static final String NAME = "bench-noop";

  private final Probe probe;

  /** @param probe where the step reports */
  public NoopWorkflow(Probe probe) {
    this.probe = probe;
  }

  /**
   * Records the trigger-to-start latency and counts the run.
   *
   * @param in the run's input
   * @param ctx the step context
   */
  @Step(name = "noop")
  public void noop(BenchInput in, StepContext ctx) {
    probe.started(in);
    probe.finished(in, ctx.runId());
  }
}
