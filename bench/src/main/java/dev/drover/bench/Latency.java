package dev.drover.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.Worker;

/**
 * {@code latency}: N single triggers, one at a time, on an open-loop schedule of R per second (run i is
 * due at begin + i/R; a late call is not skipped, the next ones catch up), into an idle worker.
 * Latency = just before the trigger call to the step's first line (like the peers' "C" phase).
 * After the common warm-up, unmeasured 5-s phases of the same pattern until the JIT is quiet
 * ({@link Harness#warmAtPattern}; JSON {@code latency_warmup}). After the window, the disk's own
 * write+fdatasync time on the database's filesystem ({@link DiskProbe}; JSON {@code disk_sync_ms}): the
 * floor under the tail, since every trigger waits for one such flush.
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
    long end;
    Probe.Phase ph;
    Sent sent;
    Harness.PatternWarmup warm = null;
    try {
      h.warmup(NoopWorkflow.NAME, slots, w);
      if (h.cfg.warmupOr(2000) > 0 && !h.cfg.warmupTimeOr(Harness.DEFAULT_WARMUP_TIME).isZero()) {
        // Its own pattern, 5 s a phase: one call at a time into an idle worker takes paths (the
        // caller's own trigger group, a lone report) the generic warm-up's crowds do not.
        long n = Math.max(1, Math.min(runs, Math.round(rate * WARM_PHASE_SECONDS)));
        warm = h.warmAtPattern("one at a time", n, p -> send(h, p, n, interval));
      }
      Thread.sleep(1000); // let the worker go idle, as in the peers' harness
      h.progress("measuring: " + runs + " single triggers at " + rate + "/s");
      ph = h.probe.begin(runs);
      sent = send(h, ph, runs, interval);
      end = h.awaitDone(ph);
    } finally {
      Harness.stop(w);
    }
    // The disk's own flush time, after the window (during it, the probe's flushes would queue with the
    // commits it measures): as many flushes as the window committed triggers, within 1,000, at 200/s.
    int probeSamples = (int) Math.max(200, Math.min(1000, runs));
    java.nio.file.Path probeDir = h.target.diskProbeDir();
    ObjectNode disk = DiskProbe.measure(probeDir, probeSamples, DISK_PROBE_RATE);
    long start = sent.start();
    int behind = sent.behind();
    long lastCall = sent.lastCall();
    double secs = Workload.seconds(end - start);
    ObjectNode p = Workload.params();
    p.put("rate_per_s", rate);
    p.put("slots", slots);
    p.put("warmup", h.cfg.warmupOr(2000));
    ObjectNode o = Workload.result(p, runs, secs, runs / secs, Reports.percentiles(ph.latency()));
    o.put("offered_rate_per_s", Reports.round(runs > 1 ? (runs - 1) / Workload.seconds(Math.max(1, lastCall - start)) : rate, 1));
    o.put("behind_schedule", behind);
    if (warm != null) {
      warm.putInto(o, "latency_warmup");
    }
    o.set("disk_sync_ms", disk);
    o.put("disk_probe_path", probeDir.toString());
    return o;
  }

  /** Flushes per second of the disk probe (each trigger and each report commit one at 100 runs/s). */
  static final double DISK_PROBE_RATE = 200;

  /** Seconds of one unmeasured phase at the measured rate (at most --runs runs). */
  static final double WARM_PHASE_SECONDS = 5;

  private record Sent(long start, long lastCall, int behind) {}

  /** Runs 0..runs-1 of {@code ph}, one at a time, run i due at start + i x interval. */
  private static Sent send(Harness h, Probe.Phase ph, long runs, long interval) {
    long start = System.nanoTime();
    long lastCall = start;
    int behind = 0;
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
    return new Sent(start, lastCall, behind);
  }
}
