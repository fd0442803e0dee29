package dev.drover.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.Worker;
import org.HdrHistogram.Recorder;

/**
 * C callers each calling single {@code runJson} in a loop until N runs are accepted, a worker
 * connected meanwhile.
 *
 * <ul>
 *   <li>{@code concurrent-triggers} (defaults 100,000 runs, 1,000 slots): throughput = accepted
 *       triggers per second; {@code end_to_end_per_s} = N / (first trigger to last run done).
 *   <li>{@code trigger-and-drain} (the first cut's default: 20,000 runs, 200 slots): throughput =
 *       end to end; {@code trigger_throughput_per_s} = triggers alone.
 * </ul>
 */
final class ConcurrentTriggers implements Workload {
  private final boolean firstCut;

  ConcurrentTriggers(boolean firstCut) {
    this.firstCut = firstCut;
  }

  @Override
  public String name() {
    return firstCut ? "trigger-and-drain" : "concurrent-triggers";
  }

  @Override
  public String description() {
    return firstCut
        ? "the first cut: 20,000 single triggers from 32 threads, 200 slots, end-to-end throughput"
        : "32 callers each triggering single runs (runJson) until N accepted, worker connected";
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    int runs = h.cfg.runsOr(firstCut ? 20_000 : 100_000);
    int slots = h.cfg.slotsOr(firstCut ? 200 : BurnDown.DEFAULT_SLOTS);
    int callers = h.cfg.concurrencyOr(32);
    Worker w = h.startWorker(slots);
    long start;
    long lastTrigger;
    long end;
    Probe.Phase ph;
    Recorder calls = new Recorder(3);
    try {
      h.warmup(NoopWorkflow.NAME, slots, w);
      h.progress("measuring: " + runs + " single triggers from " + callers + " threads, worker slots " + slots);
      ph = h.probe.begin(runs);
      start = System.nanoTime();
      lastTrigger = h.singleTriggers(NoopWorkflow.NAME, ph, 0, runs, callers, calls);
      end = h.awaitDone(ph);
    } finally {
      Harness.stop(w);
    }
    double trig = Workload.seconds(Math.max(1, lastTrigger - start));
    double e2e = Workload.seconds(end - start);

    ObjectNode p = Workload.params();
    p.put("concurrency", callers);
    p.put("slots", slots);
    p.put("warmup", h.cfg.warmupOr(2000));
    ObjectNode o;
    if (firstCut) {
      o = Workload.result(p, runs, e2e, runs / e2e, Reports.percentiles(ph.latency()));
      o.put("trigger_throughput_per_s", Reports.round(runs / trig, 1));
    } else {
      o = Workload.result(p, runs, trig, runs / trig, Reports.percentiles(ph.latency()));
      o.put("end_to_end_seconds", Reports.round(e2e, 3));
      o.put("end_to_end_per_s", Reports.round(runs / e2e, 1));
    }
    o.set("trigger_call_ms", Reports.percentiles(calls.getIntervalHistogram()));
    return o;
  }
}
