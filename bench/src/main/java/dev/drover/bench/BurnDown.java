package dev.drover.bench;

import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.Worker;

/**
 * {@code burn-down}: enqueue N single-step no-op runs with {@code runMany} while no worker is
 * connected, then start one worker and time until all are done. Throughput = N / drain seconds
 * (worker start included, like the peers' "work" phase); latency is not meaningful (null).
 */
final class BurnDown implements Workload {
  static final int DEFAULT_RUNS = 200_000;
  static final int DEFAULT_SLOTS = 1000;

  @Override
  public String name() {
    return "burn-down";
  }

  @Override
  public String description() {
    return "enqueue N no-op runs with no worker (runMany), then time one worker draining them";
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    int runs = h.cfg.runsOr(DEFAULT_RUNS);
    int slots = h.cfg.slotsOr(DEFAULT_SLOTS);
    int batch = h.cfg.batchSizeOr(Harness.MAX_BATCH);
    h.registerDefinitions();
    h.warmup(NoopWorkflow.NAME, slots, null);
    Drain d = drain(h, runs, slots, batch);

    ObjectNode p = Workload.params();
    p.put("slots", slots);
    p.put("batch_size", batch);
    p.put("warmup", h.cfg.warmupOr(2000));
    ObjectNode o = Workload.result(p, runs, Workload.seconds(d.drainNanos), runs / Workload.seconds(d.drainNanos),
        NullNode.getInstance());
    o.put("enqueue_seconds", Reports.round(Workload.seconds(d.enqueueNanos), 3));
    o.put("enqueue_per_s", Reports.round(runs / Workload.seconds(d.enqueueNanos), 1));
    o.put("first_start_ms", Reports.round(d.firstStartNanos / 1e6, 3));
    return o;
  }

  /** Timings of one burn-down: enqueue time, drain time (worker start to all done), first start. */
  record Drain(long enqueueNanos, long drainNanos, long firstStartNanos) {}

  /** Enqueues {@code runs} no-op runs with no worker connected, then drains them with one worker. */
  static Drain drain(Harness h, int runs, int slots, int batch) throws InterruptedException {
    Probe.Phase p = h.probe.begin(runs);
    h.progress("enqueueing " + runs + " runs (runMany, batches of " + batch + "), no worker connected");
    long enqueue = h.enqueue(NoopWorkflow.NAME, p, 0, runs, batch, 1, false);
    h.progress("draining with one worker of " + slots + " slots");
    long start = System.nanoTime();
    Worker w = h.startWorker(slots);
    try {
      long end = h.awaitDone(p);
      long first = p.firstStart.get();
      return new Drain(enqueue, end - start, first == 0 ? 0 : first - start);
    } finally {
      Harness.stop(w);
    }
  }
}
