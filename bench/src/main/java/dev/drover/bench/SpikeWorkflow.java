package dev.drover.bench;

import dev.drover.sdk.Concurrency;
import dev.drover.sdk.OnEvent;
import dev.drover.sdk.Step;
import dev.drover.sdk.Workflow;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * The {@code spike} workload's workflow: started by {@value #EVENT} events (the burst) or triggered
 * directly (the other key's steady trickle); runs of one key (the phase id {@code input.p}) are
 * capped by a concurrency group, so a burst of one key cannot fill the worker queue.
 */
@Workflow(name = SpikeWorkflow.NAME, version = "1", description = "drover bench: the spike workload")
@OnEvent(SpikeWorkflow.EVENT)
@Concurrency(key = "input.p", maxRunning = SpikeWorkflow.PER_KEY)
public final class SpikeWorkflow {
  /** The workflow's name. */
  public static final String NAME = "bench-spike";
  /** The event of the burst. */
  public static final String EVENT = "bench.spike";
  /** Runs of one key at a time. */
  public static final int PER_KEY = 64;

  final int burstKey;
  final AtomicLong burstDone = new AtomicLong();
  final AtomicLong otherDone = new AtomicLong();
  final Recorder otherLatency = new Recorder(3);

  /** @param burstKey the {@code p} of the burst's events; every other {@code p} is "the other key" */
  public SpikeWorkflow(int burstKey) {
    this.burstKey = burstKey;
  }

  /**
   * Counts the run; for the other key, records trigger-to-start latency.
   *
   * @param in the run's input
   */
  @Step(name = "work")
  public void work(BenchInput in) {
    if (in.p() == burstKey) {
      burstDone.incrementAndGet();
    } else {
      otherLatency.recordValue(Math.max(0, System.nanoTime() - in.t()));
      otherDone.incrementAndGet();
    }
  }
}
