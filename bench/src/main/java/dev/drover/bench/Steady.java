package dev.drover.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Recorder;

/**
 * {@code steady}: an open-loop generator triggers single runs at a fixed rate for a duration while a
 * worker drains. Run i is due at begin + i/R; C virtual threads take the next due run, wait for its
 * time and trigger it. {@code latency_ms} is measured from the intended send time (so a slow server
 * cannot hide its queueing by slowing the generator: no coordinated omission),
 * {@code latency_plain_ms} from just before the actual call. With {@code --dag} it triggers the 4-step
 * DAG instead and also reports {@code run_latency_ms}: intended send time to the join step's first line.
 */
final class Steady implements Workload {
  @Override
  public String name() {
    return "steady";
  }

  @Override
  public String description() {
    return "open-loop single triggers at --rate (5,000/s) for --duration (60 s) while a worker drains"
        + " (--dag: of the 4-step DAG)";
  }

  @Override
  public void check(BenchConfig c) {
    if (c.runs != null) {
      throw new BenchUsageException("--runs: not used by steady (runs = --rate x --duration)");
    }
  }

  @Override
  public ObjectNode run(Harness h) throws Exception {
    double rate = h.cfg.rateOr(5000);
    Duration duration = h.cfg.durationOr(Duration.ofSeconds(60));
    int slots = h.cfg.slotsOr(BurnDown.DEFAULT_SLOTS);
    int senders = h.cfg.concurrencyOr(512);
    long total = Math.max(1, Math.round(rate * duration.toNanos() / 1e9));
    double interval = 1e9 / rate;
    String workflow = h.cfg.dag ? DagWorkflow.NAME : NoopWorkflow.NAME;
    Worker w = h.startWorker(slots);
    Probe.Phase ph;
    long start;
    long end;
    AtomicLong lastCall = new AtomicLong();
    AtomicLong late1ms = new AtomicLong();
    AtomicLong maxLag = new AtomicLong();
    Recorder calls = new Recorder(3);
    try {
      h.warmup(workflow, slots, w);
      h.progress("measuring: " + rate + " runs/s for " + duration.toMillis() / 1000.0 + " s (" + total
          + " runs, " + senders + " senders), worker slots " + slots);
      ph = h.probe.begin(total);
      AtomicLong next = new AtomicLong();
      AtomicReference<RuntimeException> failure = new AtomicReference<>();
      List<Thread> threads = new ArrayList<>();
      start = System.nanoTime() + 5_000_000;
      for (int c = 0; c < senders; c++) {
        threads.add(Thread.ofVirtual().name("bench-steady-" + c).start(() -> {
          long i;
          while (failure.get() == null && (i = next.getAndIncrement()) < total) {
            long due = start + (long) (i * interval);
            Harness.sleepUntil(due);
            long t = System.nanoTime();
            long lag = t - due;
            if (lag > 1_000_000) {
              late1ms.incrementAndGet();
            }
            maxLag.accumulateAndGet(lag, Math::max);
            try {
              h.triggers.runJson(workflow, new BenchInput(ph.id(), i, t, due).json(), RunOptions.defaults());
            } catch (RuntimeException e) {
              failure.compareAndSet(null, e);
              return;
            }
            long done = System.nanoTime();
            calls.recordValue(done - t);
            lastCall.accumulateAndGet(done, Math::max);
          }
        }));
      }
      for (Thread t : threads) {
        t.join();
      }
      if (failure.get() != null) {
        throw failure.get();
      }
      end = h.awaitDone(ph);
    } finally {
      Harness.stop(w);
    }
    double secs = Workload.seconds(end - start);
    double triggerSecs = Workload.seconds(Math.max(1, lastCall.get() - start));
    ObjectNode p = Workload.params();
    p.put("rate_per_s", rate);
    p.put("duration_s", duration.toMillis() / 1000.0);
    p.put("senders", senders);
    p.put("slots", slots);
    p.put("warmup", h.cfg.warmupOr(2000));
    p.put("workflow", workflow);
    ObjectNode o = Workload.result(p, total, secs, total / secs, Reports.percentiles(ph.fromSchedule()));
    if (h.cfg.dag) {
      o.put("steps_per_s", Reports.round(DagWorkflow.STEPS * total / secs, 1));
      o.set("run_latency_ms", Reports.percentiles(ph.runFromSchedule()));
    }
    o.put("achieved_trigger_rate_per_s", Reports.round(total / triggerSecs, 1));
    o.put("drain_lag_ms", Reports.round((end - lastCall.get()) / 1e6, 3));
    o.set("latency_plain_ms", Reports.percentiles(ph.latency()));
    o.set("trigger_call_ms", Reports.percentiles(calls.getIntervalHistogram()));
    o.put("sends_late_over_1ms", late1ms.get());
    o.put("max_send_lag_ms", Reports.round(maxLag.get() / 1e6, 3));
    o.put("latency_note", "latency_ms from the intended send time (open loop); latency_plain_ms from the actual call");
    return o;
  }
}
