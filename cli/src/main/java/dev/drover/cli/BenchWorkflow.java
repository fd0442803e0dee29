package dev.drover.cli;

import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * The benchmark's workflow: one step that does nothing but measure how long after its trigger it
 * started. The trigger puts {@code System.nanoTime()} in the input; the step runs in the same JVM,
 * so the clocks agree.
 *
 * <pre>{@code
 * BenchWorkflow wf = new BenchWorkflow();
 * worker = client.newWorker("bench").register(wf).start();
 * BenchWorkflow.Phase p = wf.begin(1000, false);
 * }</pre>
 */
@Workflow(name = BenchWorkflow.NAME, version = "1", description = "drover bench: a single no-op step")
public final class BenchWorkflow {
  /** The workflow's name. */
  public static final String NAME = "bench-noop";

  /**
   * The step's input.
   *
   * @param i sequence number of the run within its phase
   * @param t {@code System.nanoTime()} just before the trigger call
   * @param w whether the run belongs to the warm-up phase
   */
  public record Input(long i, long t, boolean w) {}

  /** Counters of one phase (warm-up or measured). */
  public static final class Phase {
    final long expected;
    final boolean warmup;
    final Recorder latency = new Recorder(3);
    final AtomicLong done = new AtomicLong();
    volatile String lastRunId;
    volatile long lastStepNanos;

    Phase(long expected, boolean warmup) {
      this.expected = expected;
      this.warmup = warmup;
    }
  }

  private volatile Phase phase;

  /** Creates the workflow. */
  public BenchWorkflow() {}

  /** Starts counting a new phase of {@code expected} runs. */
  Phase begin(long expected, boolean warmup) {
    Phase p = new Phase(expected, warmup);
    phase = p;
    return p;
  }

  /**
   * Records the trigger-to-start latency and counts the run.
   *
   * @param in the run's input
   * @param ctx the step context
   */
  @Step(name = "noop")
  public void noop(Input in, StepContext ctx) {
    long now = System.nanoTime();
    Phase p = phase;
    if (p == null || in == null || in.w() != p.warmup) {
      return; // a leftover of another phase (or of an earlier bench against the same server)
    }
    p.latency.recordValue(Math.max(0, now - in.t()));
    p.done.incrementAndGet();
    p.lastRunId = ctx.runId();
    p.lastStepNanos = System.nanoTime();
  }
}
