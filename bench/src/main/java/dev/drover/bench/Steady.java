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
 * After the common warm-up it runs unmeasured phases at the same rate until the JIT is quiet (see
 * {@link #warmAtRate}).
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
    Sends sends = new Sends();
    Harness.PatternWarmup warm = null;
    try {
      h.warmup(workflow, slots, w);
      if (!h.cfg.warmupTimeOr(Harness.DEFAULT_WARMUP_TIME).isZero()) {
        warm = warmAtRate(h, workflow, rate, duration, senders);
      }
      h.progress("measuring: " + rate + " runs/s for " + duration.toMillis() / 1000.0 + " s (" + total
          + " runs, " + senders + " senders), worker slots " + slots);
      ph = h.probe.begin(total);
      start = send(h, workflow, ph, total, interval, senders, sends);
      end = h.awaitDone(ph);
    } finally {
      Harness.stop(w);
    }
    double secs = Workload.seconds(end - start);
    double triggerSecs = Workload.seconds(Math.max(1, sends.lastCall.get() - start));
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
    o.put("drain_lag_ms", Reports.round((end - sends.lastCall.get()) / 1e6, 3));
    o.set("latency_plain_ms", Reports.percentiles(ph.latency()));
    o.set("trigger_call_ms", Reports.percentiles(sends.calls.getIntervalHistogram()));
    o.put("sends_late_over_1ms", sends.late1ms.get());
    o.put("max_send_lag_ms", Reports.round(sends.maxLag.get() / 1e6, 3));
    if (warm != null) {
      warm.putInto(o, "steady_warmup");
    }
    o.put("latency_note", "latency_ms from the intended send time (open loop); latency_plain_ms from the actual call");
    return o;
  }

  /** What the senders saw: call durations, the last call's end, late sends. */
  private static final class Sends {
    final Recorder calls = new Recorder(3);
    final AtomicLong lastCall = new AtomicLong();
    final AtomicLong late1ms = new AtomicLong();
    final AtomicLong maxLag = new AtomicLong();
  }

  /** Phases at the measured rate: at most this long each (and no longer than --duration). */
  static final Duration WARM_PHASE = Duration.ofSeconds(10);

  /**
   * Unmeasured phases at the measured rate with the measured senders (see
   * {@link Harness#warmAtPattern}). The generic warm-up (bulk and 16 callers) leaves the open-loop
   * path cold: 512 virtual senders, the server's small trigger groups and report batches at this
   * rate. Without these phases the first repetition of the full table compiled 7.7 s of JIT inside
   * its measurement (start p99 867 ms against 424 and 181 in the next two).
   */
  private static Harness.PatternWarmup warmAtRate(Harness h, String workflow, double rate, Duration duration, int senders)
      throws InterruptedException {
    Duration phase = duration.compareTo(WARM_PHASE) < 0 ? duration : WARM_PHASE;
    long n = Math.max(1, Math.round(rate * phase.toNanos() / 1e9));
    return h.warmAtPattern("at the measured rate", n, p -> send(h, workflow, p, n, 1e9 / rate, senders, new Sends()));
  }

  /**
   * Triggers runs 0..total-1 of {@code ph} open-loop: run i is due at start + i x interval; each of
   * {@code senders} virtual threads takes the next due run, waits for its time and triggers it.
   * Returns the start time.
   */
  private static long send(Harness h, String workflow, Probe.Phase ph, long total, double interval, int senders,
      Sends s) throws InterruptedException {
    AtomicLong next = new AtomicLong();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime() + 5_000_000;
    for (int c = 0; c < senders; c++) {
      threads.add(Thread.ofVirtual().name("bench-steady-" + c).start(() -> {
        long i;
        while (failure.get() == null && (i = next.getAndIncrement()) < total) {
          long due = start + (long) (i * interval);
          Harness.sleepUntil(due);
          long t = System.nanoTime();
          long lag = t - due;
          if (lag > 1_000_000) {
            s.late1ms.incrementAndGet();
          }
          s.maxLag.accumulateAndGet(lag, Math::max);
          try {
            h.triggers.runJson(workflow, new BenchInput(ph.id(), i, t, due).json(), RunOptions.defaults());
          } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
            return;
          }
          long done = System.nanoTime();
          s.calls.recordValue(done - t);
          s.lastCall.accumulateAndGet(done, Math::max);
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
    return start;
  }
}
