package dev.drover.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.EventRequest;
import dev.drover.sdk.Worker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * {@code spike}: a burst of pushed events for one key (default 100,000, in {@code pushMany} calls of
 * 10,000) while another key triggers single runs at a steady 20/s. Reports how fast the burst was
 * accepted (throughput), how long it took to drain, the other key's trigger-to-start latency during
 * the spike, and the RSS. Both keys share one workflow whose concurrency group caps each key at
 * {@value SpikeWorkflow#PER_KEY} running runs: the backlog waits in the database, not in memory.
 */
final class Spike implements Workload {
  static final int DEFAULT_EVENTS = 100_000;
  static final int BURST_KEY = 1_000_001;
  static final int OTHER_KEY = 1_000_002;

  @Override
  public String name() {
    return "spike";
  }

  @Override
  public String description() {
    return "a burst of pushed events for one key while another key triggers 20 runs/s: accept speed, drain, the other key's latency";
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    int events = h.cfg.runsOr(DEFAULT_EVENTS);
    int slots = h.cfg.slotsOr(BurnDown.DEFAULT_SLOTS);
    SpikeWorkflow wf = new SpikeWorkflow(BURST_KEY);
    Worker w = h.workers.newWorker("bench-spike").register(wf).slots(slots).start();
    try {
      AtomicBoolean trickling = new AtomicBoolean(true);
      AtomicLong otherSent = new AtomicLong();
      Thread trickle = Thread.ofPlatform().daemon(true).name("bench-spike-other").start(() -> {
        long next = System.nanoTime();
        while (trickling.get()) {
          long i = otherSent.getAndIncrement();
          h.triggers.run(SpikeWorkflow.NAME, new BenchInput(OTHER_KEY, i, System.nanoTime(), 0));
          next += 50_000_000L;
          long sleep = next - System.nanoTime();
          if (sleep > 0) {
            try {
              Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
            } catch (InterruptedException e) {
              return;
            }
          }
        }
      });
      h.progress("pushing a burst of " + events + " events (batches of 10,000) while another key triggers 20 runs/s");
      long start = System.nanoTime();
      for (int s = 0; s < events; s += Harness.MAX_BATCH) {
        List<EventRequest> batch = new ArrayList<>(Harness.MAX_BATCH);
        for (int i = s; i < Math.min(events, s + Harness.MAX_BATCH); i++) {
          batch.add(EventRequest.of(SpikeWorkflow.EVENT, new BenchInput(BURST_KEY, i, 0, 0)));
        }
        h.triggers.pushMany(batch);
      }
      long pushNanos = System.nanoTime() - start;
      h.progress("burst accepted; draining");
      long stall = h.cfg.stallTimeout.toNanos();
      long lastDone = -1;
      long lastProgress = System.nanoTime();
      while (wf.burstDone.get() < events) {
        long d = wf.burstDone.get();
        if (d != lastDone) {
          lastDone = d;
          lastProgress = System.nanoTime();
        } else if (System.nanoTime() - lastProgress > stall) {
          throw new IllegalStateException("stalled: " + d + " of " + events + " burst runs done, none for "
              + h.cfg.stallTimeout.toSeconds() + " s");
        }
        Thread.sleep(5);
      }
      long drainNanos = System.nanoTime() - start;
      trickling.set(false);
      trickle.join();
      long otherDeadline = System.nanoTime() + stall;
      while (wf.otherDone.get() < otherSent.get() && System.nanoTime() < otherDeadline) Thread.sleep(20);
      Histogram other = wf.otherLatency.getIntervalHistogram();

      ObjectNode params = Workload.params();
      params.put("slots", slots);
      params.put("per_key_max_running", SpikeWorkflow.PER_KEY);
      params.put("other_key_rate_per_s", 20);
      ObjectNode o = Workload.result(params, events, Workload.seconds(pushNanos), events / Workload.seconds(pushNanos),
          Reports.percentiles(other));
      o.put("latency_of", "the other key's runs, trigger to first line of the step, during the spike");
      o.put("drained_seconds", Reports.round(Workload.seconds(drainNanos), 3));
      o.put("drained_per_s", Reports.round(events / Workload.seconds(drainNanos), 1));
      o.put("other_key_runs", otherSent.get());
      return o;
    } finally {
      Harness.stop(w);
    }
  }
}
