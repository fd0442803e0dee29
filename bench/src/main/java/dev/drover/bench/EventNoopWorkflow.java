package dev.drover.bench;

import dev.drover.sdk.OnEvent;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;

/**
 * Started by every {@value #EVENT} event: one no-op step reporting to the {@link Probe} (the event's
 * payload is the run's {@link BenchInput}). Only the {@code bulk-push} workload serves it.
 */
@Workflow(name = EventNoopWorkflow.NAME, version = "1", description = "drover bench: a no-op started by an event")
@OnEvent(EventNoopWorkflow.EVENT)
public final class EventNoopWorkflow {
  /** The workflow's name. */
  public static final String NAME = "bench-event-noop";
  /** The event it listens to. */
  public static final String EVENT = "bench.pushed";

  private final Probe probe;

  /** @param probe where the step reports */
  public EventNoopWorkflow(Probe probe) {
    this.probe = probe;
  }

  /**
   * Records the push-to-start latency and counts the run.
   *
   * @param in the event's payload
   * @param ctx the step context
   */
  @Step(name = "noop")
  public void noop(BenchInput in, StepContext ctx) {
    probe.started(in);
    probe.finished(in, ctx.runId());
  }
}
