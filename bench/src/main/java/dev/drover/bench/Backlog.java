package dev.drover.bench;

import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code backlog}: a burn-down with a large queue of another workflow's runs that no worker serves
 * (pre-loaded with {@code runMany}). By default the same repetition first measures the burn-down on
 * the empty queue, so the comparison is back to back on the same database.
 */
final class Backlog implements Workload {
  static final int DEFAULT_BACKLOG = 1_000_000;

  @Override
  public String name() {
    return "backlog";
  }

  @Override
  public String description() {
    return "burn-down with 1,000,000 runs of an unserved workflow already queued (vs. the empty queue)";
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    int runs = h.cfg.runsOr(BurnDown.DEFAULT_RUNS);
    int slots = h.cfg.slotsOr(BurnDown.DEFAULT_SLOTS);
    int batch = h.cfg.batchSizeOr(Harness.MAX_BATCH);
    int backlog = h.cfg.backlogOr(DEFAULT_BACKLOG);
    h.registerDefinitions();
    h.warmup(NoopWorkflow.NAME, slots, null);
    BurnDown.Drain empty = null;
    if (h.cfg.baseline) {
      h.progress("baseline: burn-down on the empty queue");
      empty = BurnDown.drain(h, runs, slots, batch);
    }
    h.progress("pre-loading " + backlog + " queued runs of " + UnservedWorkflow.NAME + " (no worker serves it)");
    long preload = h.enqueue(UnservedWorkflow.NAME, null, 0, backlog, batch, 1, false);
    BurnDown.Drain d = BurnDown.drain(h, runs, slots, batch);

    ObjectNode p = Workload.params();
    p.put("backlog", backlog);
    p.put("slots", slots);
    p.put("batch_size", batch);
    p.put("warmup", h.cfg.warmupOr(2000));
    double tput = runs / Workload.seconds(d.drainNanos());
    ObjectNode o = Workload.result(p, runs, Workload.seconds(d.drainNanos()), tput, NullNode.getInstance());
    o.put("enqueue_per_s", Reports.round(runs / Workload.seconds(d.enqueueNanos()), 1));
    o.put("first_start_ms", Reports.round(d.firstStartNanos() / 1e6, 3));
    o.put("backlog_preload_seconds", Reports.round(Workload.seconds(preload), 3));
    o.put("backlog_preload_per_s", backlog == 0 ? 0 : Reports.round(backlog / Workload.seconds(preload), 1));
    if (empty != null) {
      double base = runs / Workload.seconds(empty.drainNanos());
      o.put("empty_queue_throughput_per_s", Reports.round(base, 1));
      o.put("ratio_vs_empty_queue", Reports.round(tput / base, 3));
    } else {
      o.putNull("empty_queue_throughput_per_s");
      o.putNull("ratio_vs_empty_queue");
    }
    return o;
  }
}
