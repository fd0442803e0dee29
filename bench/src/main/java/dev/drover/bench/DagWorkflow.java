package dev.drover.bench;

import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;

/**
 * The 4-step DAG of the targets, all no-op steps:
 *
 * <pre>
 *   root ──┬── left ──┬── join
 *          └── right ─┘
 * </pre>
 */
@Workflow(name = DagWorkflow.NAME, version = "1", description = "drover bench: root, two parallel, join (no-op)")
public final class DagWorkflow {
  /** The workflow's name. */
  public static final String NAME = "bench-dag";
  /** Steps per run. */
  public static final int STEPS = 4;

  private final Probe probe;

  /** @param probe where the root and join steps report */
  public DagWorkflow(Probe probe) {
    this.probe = probe;
  }

  /** Records the trigger-to-start latency. */
  @Step(name = "root")
  public void root(BenchInput in, StepContext ctx) {
    probe.started(in);
  }

  /** No-op. */
  @Step(name = "left", parents = "root")
  public void left(StepContext ctx) {}

  /** No-op. */
  @Step(name = "right", parents = "root")
  public void right(StepContext ctx) {}

  /** Counts the run. */
  @Step(name = "join", parents = {"left", "right"})
  public void join(BenchInput in, StepContext ctx) {
    probe.finished(in, ctx.runId());
  }
}
