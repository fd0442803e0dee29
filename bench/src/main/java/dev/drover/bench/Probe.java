package dev.drover.bench;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the benchmark workflows measure: each phase (warm-up, measured) counts its finished runs and
 * records trigger-to-start latencies in HdrHistogram recorders. Steps of runs from another phase
 * (left over from an earlier warm-up or an earlier benchmark on the same server) are ignored.
 */
public final class Probe {
  private final AtomicInteger ids = new AtomicInteger();
  private volatile Phase current;

  /** Creates a probe with no phase. */
  public Probe() {}

  /**
   * Starts a new phase; from now on only its runs count.
   *
   * @param expected how many runs it waits for
   * @return the phase
   */
  public Phase begin(long expected) {
    Phase p = new Phase(ids.incrementAndGet(), expected);
    current = p;
    return p;
  }

  /** Called first thing by a run's first step. */
  void started(BenchInput in) {
    long now = System.nanoTime();
    Phase p = current;
    if (p == null || in == null || in.p() != p.id) {
      return;
    }
    p.firstStart.compareAndSet(0, now);
    if (in.t() != 0) {
      p.latency.recordValue(Math.max(0, now - in.t()));
    }
    if (in.s() != 0) {
      p.fromSchedule.recordValue(Math.max(0, now - in.s()));
    }
  }

  /** Called by a run's last step. */
  void finished(BenchInput in, String runId) {
    Phase p = current;
    if (p == null || in == null || in.p() != p.id) {
      return;
    }
    p.lastRunId = runId;
    if (in.s() != 0) {
      p.runFromSchedule.recordValue(Math.max(0, System.nanoTime() - in.s()));
    }
    p.done.incrementAndGet();
  }

  /** One phase's counters. */
  public static final class Phase {
    private final int id;
    final long expected;
    final Recorder latency = new Recorder(3);
    final Recorder fromSchedule = new Recorder(3);
    /** Intended send time to the last step's first line (multi-step runs). */
    final Recorder runFromSchedule = new Recorder(3);
    final AtomicLong done = new AtomicLong();
    final AtomicLong firstStart = new AtomicLong();
    volatile String lastRunId;

    Phase(int id, long expected) {
      this.id = id;
      this.expected = expected;
    }

    /** The id carried in {@link BenchInput#p()}. */
    public int id() {
      return id;
    }

    /** Runs finished so far. */
    public long done() {
      return done.get();
    }

    /** Trigger-call-to-first-step latencies so far (ns), since the previous call. */
    Histogram latency() {
      return latency.getIntervalHistogram();
    }

    /** Intended-send-time-to-last-step latencies so far (ns), since the previous call. */
    Histogram runFromSchedule() {
      return runFromSchedule.getIntervalHistogram();
    }

    /** Intended-send-time-to-first-step latencies so far (ns), since the previous call. */
    Histogram fromSchedule() {
      return fromSchedule.getIntervalHistogram();
    }
  }
}
