package dev.drover.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.Worker;

/**
 * {@code dag}: N runs of the 4-step {@link DagWorkflow} triggered with {@code runMany} while a worker
 * drains; throughput = steps per second (4 × N / seconds from the first trigger to the last join).
 * Latency = trigger call (of the batch) to the root step's start.
 */
final class DagRuns implements Workload {
  @Override
  public String name() {
    return "dag";
  }

  @Override
  public String description() {
    return "4-step DAG (root, two parallel, join) via runMany while a worker drains; steps/s";
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    int runs = h.cfg.runsOr(20_000);
    int slots = h.cfg.slotsOr(BurnDown.DEFAULT_SLOTS);
    int batch = h.cfg.batchSizeOr(Harness.MAX_BATCH);
    Worker w = h.startWorker(slots);
    long start;
    long triggerNanos;
    long end;
    Probe.Phase ph;
    try {
      h.warmup(DagWorkflow.NAME, slots, w);
      h.progress("measuring: " + runs + " DAG runs (runMany, batches of " + batch + "), worker slots " + slots);
      ph = h.probe.begin(runs);
      start = System.nanoTime();
      triggerNanos = h.enqueue(DagWorkflow.NAME, ph, 0, runs, batch, 1, true);
      end = h.awaitDone(ph);
    } finally {
      Harness.stop(w);
    }
    double secs = Workload.seconds(end - start);
    ObjectNode p = Workload.params();
    p.put("steps_per_run", DagWorkflow.STEPS);
    p.put("slots", slots);
    p.put("batch_size", batch);
    p.put("warmup", h.cfg.warmupOr(2000));
    ObjectNode o = Workload.result(p, runs, secs, DagWorkflow.STEPS * runs / secs, Reports.percentiles(ph.latency()));
    o.put("throughput_unit", "steps/s");
    o.put("runs_per_s", Reports.round(runs / secs, 1));
    o.put("trigger_seconds", Reports.round(Workload.seconds(triggerNanos), 3));
    o.put("latency_note", "trigger call of the run's runMany batch to the root step's first line");
    return o;
  }
}
