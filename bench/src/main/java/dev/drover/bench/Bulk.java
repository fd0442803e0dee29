package dev.drover.bench;

import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.HdrHistogram.Recorder;

/**
 * {@code bulk}: time {@code runMany} calls of 10,000 runs each until N runs are accepted, with no
 * worker. The runs are of a workflow no benchmark worker serves, so they stay queued and never
 * disturb a later workload on the same server.
 */
final class Bulk implements Workload {
  @Override
  public String name() {
    return "bulk";
  }

  @Override
  public String description() {
    return "time runMany calls (10,000 runs each) until N runs are accepted durably, no worker";
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    int runs = h.cfg.runsOr(200_000);
    int batch = h.cfg.batchSizeOr(Harness.MAX_BATCH);
    int callers = h.cfg.concurrencyOr(1);
    h.registerDefinitions();
    h.warmup(NoopWorkflow.NAME, h.cfg.slotsOr(BurnDown.DEFAULT_SLOTS), null);
    h.progress("triggering " + runs + " runs with runMany (batches of " + batch + ", " + callers + " caller(s))");
    Recorder calls = new Recorder(3);
    long nanos = h.enqueue(UnservedWorkflow.NAME, null, 0, runs, batch, callers, false, calls);

    ObjectNode p = Workload.params();
    p.put("batch_size", batch);
    p.put("concurrency", callers);
    p.put("warmup", h.cfg.warmupOr(2000));
    ObjectNode o = Workload.result(p, runs, Workload.seconds(nanos), runs / Workload.seconds(nanos),
        NullNode.getInstance());
    o.set("batch_call_ms", Reports.percentiles(calls.getIntervalHistogram()));
    return o;
  }
}
