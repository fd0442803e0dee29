package dev.drover.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.RunRequest;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Worker;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One repetition's tools: a trigger client and a worker client on separate connections, the probe
 * the benchmark workflows report to, and the helpers every workload needs (start a worker, enqueue in
 * bulk, wait until a phase is done).
 */
public final class Harness implements AutoCloseable {
  /** Runs per {@code runMany} call unless {@code --batch-size} says otherwise (the API's maximum). */
  static final int MAX_BATCH = 10_000;

  final BenchConfig cfg;
  final BenchTarget target;
  final Probe probe = new Probe();
  final NoopWorkflow noop = new NoopWorkflow(probe);
  final DagWorkflow dag = new DagWorkflow(probe);
  final DroverClient triggers;
  final DroverClient workers;
  private final PrintWriter err;
  /** Warm-up runs finished and the time they took in this repetition (reported with the parameters). */
  long warmupRuns;
  long warmupNanos;
  /** Rounds of warm-up are repeated until this long has passed. */
  static final Duration DEFAULT_WARMUP_TIME = Duration.ofSeconds(10);

  Harness(BenchConfig cfg, BenchTarget target, PrintWriter err) {
    this.cfg = cfg;
    this.target = target;
    this.err = err;
    this.triggers = connect(target);
    this.workers = connect(target);
  }

  private static DroverClient connect(BenchTarget t) {
    DroverClient.Builder b = DroverClient.builder().address(t.address()).callTimeout(Duration.ofSeconds(120));
    if (t.token() != null) {
      b.token(t.token());
    }
    return b.build();
  }

  /** A progress line on stderr unless {@code --json}. */
  void progress(String message) {
    if (!cfg.json && err != null) {
      err.println("bench: " + message);
      err.flush();
    }
  }

  /** Starts a worker serving the no-op and the DAG workflows (never the unserved one). */
  Worker startWorker(int slots) {
    return workers.newWorker("bench").register(noop).register(dag).slots(slots).start();
  }

  /**
   * Makes the server know every benchmark workflow without leaving a worker connected: a worker
   * registers them on connect and is closed at once.
   */
  void registerDefinitions() {
    if (target.definitionsRegistered()) {
      return; // once per server: the short-lived worker would otherwise also run queued unserved runs
    }
    target.markDefinitionsRegistered();
    Worker w = workers.newWorker("bench-register").register(noop).register(dag).register(new UnservedWorkflow())
        .slots(1).start();
    w.close(Duration.ofSeconds(5));
  }

  static void stop(Worker w) {
    if (w != null) {
      w.close(Duration.ofSeconds(10));
    }
  }

  /**
   * Unmeasured rounds of {@code --warmup} runs of {@code workflow} (half through {@code runMany}, half
   * through single triggers from 16 threads) to warm up the JIT, the pools and PostgreSQL's caches,
   * repeated until {@code --warmup-time} has passed and then until the JIT has settled (see
   * {@link #JIT_SETTLED}). Starts and stops its own worker when
   * {@code running} is null.
   */
  void warmup(String workflow, int slots, Worker running) throws InterruptedException {
    int n = cfg.warmupOr(2000);
    if (n == 0) {
      return;
    }
    long minNanos = cfg.warmupTimeOr(DEFAULT_WARMUP_TIME).toNanos();
    progress("warming up: rounds of " + n + " runs of " + workflow + " for at least "
        + cfg.warmupTimeOr(DEFAULT_WARMUP_TIME).toSeconds() + " s");
    Worker w = running != null ? running : startWorker(slots);
    long start = System.nanoTime();
    boolean jitBusy = false;
    int quietRounds = 0;
    try {
      do {
        long roundStart = System.nanoTime();
        long jitBefore = jitMillis();
        Probe.Phase p = probe.begin(n);
        int bulk = n / 2;
        enqueue(workflow, p, 0, bulk, Math.min(MAX_BATCH, Math.max(1, bulk)), 1, true);
        singleTriggers(workflow, p, bulk, n - bulk, 16, null);
        awaitDone(p);
        warmupRuns += n;
        double share = (jitMillis() - jitBefore) * 1e6 / Math.max(1, System.nanoTime() - roundStart);
        quietRounds = jitBefore < 0 || share <= JIT_SETTLED ? quietRounds + 1 : 0;
        // One quiet round is not enough: C2 works in bursts (a deoptimisation recompiles a hot loop).
        jitBusy = quietRounds < JIT_QUIET_ROUNDS;
      } while (System.nanoTime() - start < minNanos
          || jitBusy && minNanos > 0 && System.nanoTime() - start < JIT_WAIT_MAX.toNanos());
      progress(String.format("warmed up: %d runs in %.1f s, JIT %s", warmupRuns, (System.nanoTime() - start) / 1e9,
          jitBusy ? "still compiling" : "settled"));
    } finally {
      warmupNanos = System.nanoTime() - start;
      jitSettled = !jitBusy;
      jitAfterWarmup = jitMillis();
      if (running == null) {
        stop(w);
      }
    }
  }

  /**
   * The warm-up goes on past {@code --warmup-time} while the JIT compilers spent more than this share
   * of its last round's wall time (one compiler thread at 5% of the round). On this 2-vCPU VM C2 took
   * 40-55% of a core 20 s into a process and settled after ~40-60 s of load; compiling beside the
   * measurement doubled the idle latency's p99 (see bench/README.md). A server runs for days: its JIT
   * is settled, and that is the state measured. The compile time left in the measured phase is reported.
   */
  static final double JIT_SETTLED = 0.05;
  /** Consecutive rounds under {@link #JIT_SETTLED} that count as settled. */
  static final int JIT_QUIET_ROUNDS = 2;
  /** ... but no longer than this in all. */
  static final Duration JIT_WAIT_MAX = Duration.ofSeconds(120);
  /** Whether the warm-up ended with {@link #JIT_QUIET_ROUNDS} quiet rounds (or the JVM reports no compile time). */
  boolean jitSettled = true;
  /** Total JIT compile time when the warm-up ended, -1 when not reported. */
  long jitAfterWarmup = -1;

  /** What {@link #warmAtPattern} did: phases run, their wall time, and whether the last was quiet. */
  record PatternWarmup(int phases, double seconds, boolean jitSettled) {
    void putInto(ObjectNode o, String field) {
      ObjectNode wn = o.putObject(field);
      wn.put("phases", phases);
      wn.put("seconds", Reports.round(seconds, 1));
      wn.put("jit_settled", jitSettled);
    }
  }

  /** Sends one unmeasured phase of a workload's own pattern. */
  interface PhaseSender {
    void send(Probe.Phase p) throws InterruptedException;
  }

  /** At most this many phases in {@link #warmAtPattern}. */
  static final int PATTERN_PHASES_MAX = 4;

  /**
   * After {@link #warmup}: unmeasured phases of {@code n} runs sent the way the measured phase sends
   * them, until {@link #JIT_QUIET_ROUNDS} in a row each compiled at most {@link #JIT_SETTLED} of its
   * wall time (at most {@link #PATTERN_PHASES_MAX} phases). The generic warm-up (bulk and 16 callers) leaves a workload's own
   * path cold when its pattern differs (open-loop senders, one trigger at a time into an idle worker);
   * the measurement then pays for C2 beside it on a 2-vCPU box. The measured phase's JIT count
   * ({@code jit_compile_ms_measured}) starts after these phases; {@code warmup_done} includes them.
   */
  PatternWarmup warmAtPattern(String what, long n, PhaseSender sender) throws InterruptedException {
    long began = System.nanoTime();
    int phases = 0;
    int quiet = 0;
    while (quiet < JIT_QUIET_ROUNDS && phases < PATTERN_PHASES_MAX) {
      long t0 = System.nanoTime();
      long jit0 = jitMillis();
      progress("warming up " + what + ": " + n + " runs");
      Probe.Phase p = probe.begin(n);
      sender.send(p);
      awaitDone(p);
      phases++;
      quiet = jit0 < 0 || (jitMillis() - jit0) * 1e6 / Math.max(1, System.nanoTime() - t0) <= JIT_SETTLED ? quiet + 1 : 0;
    }
    boolean settled = quiet >= JIT_QUIET_ROUNDS;
    warmupRuns += n * phases;
    warmupNanos += System.nanoTime() - began;
    jitAfterWarmup = jitMillis();
    jitSettled = settled;
    return new PatternWarmup(phases, (System.nanoTime() - began) / 1e9, settled);
  }

  /** This JVM's total JIT compile time in ms (all compiler threads), or -1 if not reported. */
  static long jitMillis() {
    java.lang.management.CompilationMXBean c = java.lang.management.ManagementFactory.getCompilationMXBean();
    return c != null && c.isCompilationTimeMonitoringSupported() ? c.getTotalCompilationTime() : -1;
  }

  /**
   * Triggers runs {@code [from, from+count)} of the phase with {@code runMany}, in batches, from
   * {@code callers} threads. The requests are built before the clock starts.
   *
   * @param stamp whether inputs carry the time before their call (for latency); else t = 0
   * @return the time the calls took, in ns
   */
  long enqueue(String workflow, Probe.Phase p, long from, long count, int batch, int callers, boolean stamp)
      throws InterruptedException {
    return enqueue(workflow, p, from, count, batch, callers, stamp, null);
  }

  long enqueue(String workflow, Probe.Phase p, long from, long count, int batch, int callers, boolean stamp,
      Recorder callTimes) throws InterruptedException {
    if (count <= 0) {
      return 0;
    }
    List<long[]> ranges = new ArrayList<>();
    for (long s = from; s < from + count; s += batch) {
      ranges.add(new long[] {s, Math.min(from + count, s + batch)});
    }
    // Pre-built requests when no timestamp is needed (bulk, burn-down); else built per call.
    List<List<RunRequest>> prebuilt = new ArrayList<>();
    if (!stamp) {
      for (long[] r : ranges) {
        List<RunRequest> reqs = new ArrayList<>((int) (r[1] - r[0]));
        for (long i = r[0]; i < r[1]; i++) {
          reqs.add(RunRequest.of(workflow, new BenchInput(p == null ? 0 : p.id(), i, 0, 0)));
        }
        prebuilt.add(reqs);
      }
    }
    AtomicInteger next = new AtomicInteger();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime();
    for (int c = 0; c < callers; c++) {
      threads.add(Thread.ofPlatform().name("bench-enqueue-" + c).daemon(true).start(() -> {
        int k;
        while (failure.get() == null && (k = next.getAndIncrement()) < ranges.size()) {
          long[] r = ranges.get(k);
          List<RunRequest> reqs;
          long t = System.nanoTime();
          if (stamp) {
            reqs = new ArrayList<>((int) (r[1] - r[0]));
            for (long i = r[0]; i < r[1]; i++) {
              reqs.add(RunRequest.of(workflow, new BenchInput(p.id(), i, t, 0)));
            }
          } else {
            reqs = prebuilt.get(k);
          }
          try {
            List<RunHandle> accepted = triggers.runMany(reqs);
            if (accepted.size() != reqs.size()) {
              throw new IllegalStateException("runMany accepted " + accepted.size() + " of " + reqs.size() + " runs");
            }
          } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
            return;
          }
          if (callTimes != null) {
            callTimes.recordValue(System.nanoTime() - t);
          }
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    long elapsed = System.nanoTime() - start;
    if (failure.get() != null) {
      throw failure.get();
    }
    return elapsed;
  }

  /**
   * Single {@code runJson} triggers of runs {@code [from, from+count)} from {@code callers} threads,
   * each as fast as the calls return.
   *
   * @return nanoTime when the last call returned
   */
  long singleTriggers(String workflow, Probe.Phase p, long from, long count, int callers, Recorder callTimes)
      throws InterruptedException {
    AtomicInteger next = new AtomicInteger();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    java.util.concurrent.atomic.AtomicLong lastEnd = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      threads.add(Thread.ofPlatform().name("bench-trigger-" + c).daemon(true).start(() -> {
        int k;
        while (failure.get() == null && (k = next.getAndIncrement()) < count) {
          long t = System.nanoTime();
          try {
            triggers.runJson(workflow, new BenchInput(p.id(), from + k, t, 0).json(), RunOptions.defaults());
          } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
            return;
          }
          long end = System.nanoTime();
          if (callTimes != null) {
            callTimes.recordValue(end - t);
          }
          lastEnd.accumulateAndGet(end, Math::max);
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
    return lastEnd.get();
  }

  /**
   * Waits until the phase's runs have all finished their last step and the server has recorded the
   * last of them as succeeded.
   *
   * @return {@code System.nanoTime()} then
   * @throws IllegalStateException when no run finishes for {@code --stall-timeout}
   */
  long awaitDone(Probe.Phase p) throws InterruptedException {
    long lastDone = -1;
    long lastProgress = System.nanoTime();
    long stall = cfg.stallTimeout.toNanos();
    while (p.done() < p.expected) {
      long d = p.done();
      if (d != lastDone) {
        lastDone = d;
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > stall) {
        throw new IllegalStateException("stalled: " + d + " of " + p.expected + " runs finished, none for "
            + cfg.stallTimeout.toSeconds() + " s");
      }
      Thread.sleep(1);
    }
    String last = p.lastRunId;
    RunInfo info = triggers.awaitRun(last, cfg.stallTimeout);
    long end = System.nanoTime();
    if (info.status() != RunStatus.SUCCEEDED) {
      throw new IllegalStateException("the last run " + last + " ended " + info.status()
          + (info.error() == null ? "" : ": " + info.error()));
    }
    return end;
  }

  /** Parks until {@code System.nanoTime() >= due}. */
  static void sleepUntil(long due) {
    long d;
    while ((d = due - System.nanoTime()) > 0) {
      java.util.concurrent.locks.LockSupport.parkNanos(d);
    }
  }

  static Histogram empty() {
    return new Histogram(3);
  }

  @Override
  public void close() {
    try {
      workers.close();
    } finally {
      triggers.close();
    }
  }
}
