package dev.drover.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.Worker;

/**
 * {@code latency}: N single triggers, one at a time, on an open-loop schedule of R per second (run i is
 * due at begin + i/R; a late call is not skipped, the next ones catch up), into an idle worker.
 * Latency = just before the trigger call to the step's first line (like the peers' "C" phase).
 */
final class Latency implements Workload {
  @Override
  public String name() {
    return "latency";
  }

  @Override
  public String description() {
    return "1,000 single triggers one at a time at 100/s into an idle worker: p50/p95/p99/max";
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    int runs = h.cfg.runsOr(1000);
    double rate = h.cfg.rateOr(100);
    int slots = h.cfg.slotsOr(100);
    long interval = Math.max(1, Math.round(1e9 / rate));
    Worker w = h.startWorker(slots);
    long start;
    long lastCall;
    long end;
    int behind = 0;
    Probe.Phase ph;
    try {
      h.warmup(NoopWorkflow.NAME, slots, w);
      Thread.sleep(1000); // let the worker go idle, as in the peers' harness
      h.progress("measuring: " + runs + " single triggers at " + rate + "/s");
      ph = h.probe.begin(runs);
      start = System.nanoTime();
      lastCall = start;
      for (int i = 0; i < runs; i++) {
        long due = start + i * interval;
        Harness.sleepUntil(due);
        long t = System.nanoTime();
        if (t - due > interval) {
          behind++;
        }
        h.triggers.runJson(NoopWorkflow.NAME, new BenchInput(ph.id(), i, t, 0).json(), RunOptions.defaults());
        lastCall = System.nanoTime();
      }
      end = h.awaitDone(ph);
    } finally {
      Harness.stop(w);
    }
    double secs = Workload.seconds(end - start);
    ObjectNode p = Workload.params();
    p.put("rate_per_s", rate);
    p.put("slots", slots);
    p.put("warmup", h.cfg.warmupOr(2000));
    ObjectNode o = Workload.result(p, runs, secs, runs / secs, Reports.percentiles(ph.latency()));
    o.put("offered_rate_per_s", Reports.round(runs > 1 ? (runs - 1) / Workload.seconds(Math.max(1, lastCall - start)) : rate, 1));
    o.put("behind_schedule", behind);
    return o;
  }
}
