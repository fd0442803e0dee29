package dev.drover.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a workload {@code --repeat} times and prints one JSON line per repetition on {@code out}
 * (then, with more than one repetition, a summary line with median and min–max of every figure),
 * plus a human summary on {@code err} unless {@code --json}.
 *
 * <p>Each repetition gets a fresh in-process server on a fresh embedded PostgreSQL, unless
 * {@code --address} (a running server) or {@code --database-url} (one in-process server on that
 * database for all repetitions) is given.
 *
 * <pre>{@code
 * List<ObjectNode> lines = new BenchRunner(out, err).run(Workloads.get("latency"), config);
 * }</pre>
 */
public final class BenchRunner {
  static final String RSS_NOTE =
      "in-process: the RSS of this JVM, which also holds the load generator and the worker (not PostgreSQL)";

  private final PrintWriter out;
  private final PrintWriter err;

  /**
   * @param out where the JSON lines go
   * @param err progress and the human summary (unless --json)
   */
  public BenchRunner(PrintWriter out, PrintWriter err) {
    this.out = out;
    this.err = err;
  }

  /** Runs the workload on the targets the configuration asks for; returns the printed lines. */
  public List<ObjectNode> run(Workload w, BenchConfig cfg) throws Exception {
    return run(w, cfg, null);
  }

  /**
   * Runs the workload; with {@code shared} non-null every repetition uses that target (tests).
   *
   * @return the repetition lines followed by the summary line, if any
   */
  public List<ObjectNode> run(Workload w, BenchConfig cfg, BenchTarget shared) throws Exception {
    cfg.validate();
    w.check(cfg);
    AtomicReference<BenchTarget> current = new AtomicReference<>();
    AtomicBoolean cleaned = new AtomicBoolean();
    BenchTarget[] reused = new BenchTarget[1];
    Runnable cleanup = () -> {
      if (cleaned.compareAndSet(false, true)) {
        closeQuietly(current.getAndSet(null));
        closeQuietly(reused[0]);
      }
    };
    Thread hook = new Thread(cleanup, "drover-bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    List<ObjectNode> lines = new ArrayList<>();
    try {
      for (int rep = 1; rep <= cfg.repeat; rep++) {
        BenchTarget target;
        boolean perRepetition = false;
        if (shared != null) {
          target = shared;
        } else if (cfg.address != null) {
          target = reused[0] != null ? reused[0] : (reused[0] = BenchTarget.remote(cfg.address, cfg.token));
        } else if (cfg.databaseUrl != null) {
          target = reused[0] != null ? reused[0]
              : (reused[0] = BenchTarget.external(cfg.databaseUrl, msg -> progress(cfg, msg)));
        } else {
          target = BenchTarget.embedded(msg -> progress(cfg, msg));
          perRepetition = true;
          current.set(target);
        }
        try {
          if (cfg.repeat > 1) {
            progress(cfg, w.name() + ": repetition " + rep + " of " + cfg.repeat);
          }
          ObjectNode line = runOnce(w, cfg, target, rep);
          lines.add(line);
          out.println(Reports.json(line));
          out.flush();
          if (!cfg.json) {
            human(line);
          }
        } finally {
          if (perRepetition) {
            closeQuietly(current.getAndSet(null));
          }
        }
      }
      if (cfg.repeat > 1) {
        ObjectNode summary = Reports.summarize(lines);
        out.println(Reports.json(summary));
        out.flush();
        if (!cfg.json) {
          humanSummary(summary);
        }
        lines.add(summary);
      }
      return lines;
    } finally {
      cleanup.run();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException ignored) {
        // already shutting down
      }
    }
  }

  private ObjectNode runOnce(Workload w, BenchConfig cfg, BenchTarget target, int rep) throws Exception {
    AtomicLong peakSampled = new AtomicLong(-1);
    AtomicBoolean sampling = new AtomicBoolean(target.inProcess());
    Thread sampler = null;
    if (sampling.get()) {
      sampler = Thread.ofPlatform().daemon(true).name("bench-rss").start(() -> {
        while (sampling.get()) {
          Long r = Reports.rssMb();
          if (r != null) {
            peakSampled.accumulateAndGet(r, Math::max);
          }
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
    }
    ObjectNode result;
    try (Harness h = new Harness(cfg, target, err)) {
      result = w.run(h);
      if (result.get("parameters") instanceof ObjectNode params) {
        params.put("warmup_time_s", cfg.warmupTimeOr(Harness.DEFAULT_WARMUP_TIME).toMillis() / 1000.0);
      }
      // What the warm-up did varies per repetition, so it is not a parameter (rows group by those).
      ObjectNode done = result.putObject("warmup_done");
      done.put("runs", h.warmupRuns);
      done.put("seconds", Reports.round(h.warmupNanos / 1e9, 1));
      done.put("jit_settled", h.jitSettled);
      long jitNow = Harness.jitMillis();
      if (h.jitAfterWarmup >= 0 && jitNow >= 0) {
        // JIT compile time (all compiler threads) from the warm-up's end to the repetition's end.
        result.put("jit_compile_ms_measured", jitNow - h.jitAfterWarmup);
      }
    } finally {
      sampling.set(false);
      if (sampler != null) {
        sampler.interrupt();
        sampler.join();
      }
    }
    ObjectNode o = Reports.MAPPER.createObjectNode();
    o.put("workload", w.name());
    o.put("repetition", rep);
    o.put("repetitions", cfg.repeat);
    o.setAll(result);
    if (target.inProcess()) {
      Long now = Reports.rssMb();
      if (peakSampled.get() < 0 && now == null) {
        o.putNull("server_rss_mb");
      } else {
        o.put("server_rss_mb", Math.max(peakSampled.get(), now == null ? -1 : now));
      }
      Long hwm = Reports.rssHighWaterMb();
      if (hwm == null) {
        o.putNull("server_rss_peak_mb");
      } else {
        o.put("server_rss_peak_mb", hwm);
      }
      // RSS follows the heap the collector chose to commit; what survives a collection is the leak test.
      o.put("heap_committed_mb", Reports.heapCommittedMb());
      Long live = Reports.heapAfterLastGcMb();
      if (live == null) {
        o.putNull("heap_after_gc_mb");
      } else {
        o.put("heap_after_gc_mb", live);
      }
      if (cfg.heapLive) {
        // After every other number of this repetition: the collection must not touch what was measured.
        o.put("heap_live_mb", Reports.heapLiveMb());
      }
      o.put("rss_note", RSS_NOTE + "; server_rss_mb = highest VmRSS sampled every 100 ms during the repetition, "
          + "server_rss_peak_mb = VmHWM of the process so far; heap_committed_mb = the Java heap committed at the "
          + "repetition's end, heap_after_gc_mb = heap in use after the last collection (old garbage included until a "
          + "mixed or full collection)" + (cfg.heapLive ? "; heap_live_mb = heap in use after a forced full collection "
          + "at the repetition's end (--heap-live)" : ""));
    } else {
      o.putNull("server_rss_mb");
      o.putNull("server_rss_peak_mb");
      o.put("rss_note", "server not in this process: RSS unknown");
    }
    o.put("server", target.description());
    o.set("postgres", target.inProcess() ? Reports.postgres(target.pgSettings()) : Reports.MAPPER.nullNode());
    o.set("machine", Reports.machine());
    o.put("git_commit", Reports.gitCommit());
    return o;
  }

  private void human(ObjectNode l) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "bench: %s #%d: %d runs in %.2f s = %,.0f %s",
        l.path("workload").asText(), l.path("repetition").asInt(), l.path("runs").asLong(),
        l.path("seconds").asDouble(), l.path("throughput_per_s").asDouble(),
        l.path("throughput_unit").asText("runs/s")));
    for (String extra : List.of("enqueue_per_s", "trigger_throughput_per_s", "end_to_end_per_s", "runs_per_s",
        "achieved_trigger_rate_per_s", "empty_queue_throughput_per_s", "ratio_vs_empty_queue")) {
      if (l.hasNonNull(extra)) {
        sb.append(String.format(Locale.ROOT, ", %s %s", extra, l.get(extra).asText()));
      }
    }
    JsonNode lat = l.get("latency_ms");
    if (lat != null && lat.isObject()) {
      sb.append(String.format(Locale.ROOT, "%n       latency p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms",
          lat.path("p50").asDouble(), lat.path("p95").asDouble(), lat.path("p99").asDouble(), lat.path("max").asDouble()));
    }
    JsonNode disk = l.get("disk_sync_ms");
    if (disk != null && disk.isObject()) {
      sb.append(String.format(Locale.ROOT, "%n       disk write+fdatasync p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, over 4 ms %.2f%%",
          disk.path("p50").asDouble(), disk.path("p99").asDouble(), disk.path("p999").asDouble(), disk.path("max").asDouble(),
          disk.path("over_4ms_pct").asDouble()));
    }
    if (l.hasNonNull("server_rss_mb")) {
      sb.append(String.format(Locale.ROOT, "%n       rss %d MB (process peak %s MB), heap %s MB committed, %s MB after the last GC",
          l.get("server_rss_mb").asLong(), l.path("server_rss_peak_mb").asText(), l.path("heap_committed_mb").asText(),
          l.path("heap_after_gc_mb").asText()));
      if (l.has("heap_live_mb")) {
        sb.append(String.format(Locale.ROOT, ", %s MB live after a full GC", l.path("heap_live_mb").asText()));
      }
    }
    err.println(sb);
    err.flush();
  }

  private void humanSummary(ObjectNode s) {
    JsonNode t = s.path("throughput_per_s");
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "bench: %s over %d repetitions: throughput median %,.0f (%,.0f–%,.0f)", s.path("workload").asText(),
        s.path("repetitions").asInt(), t.path("median").asDouble(), t.path("min").asDouble(), t.path("max").asDouble()));
    JsonNode lat = s.path("latency_ms");
    if (lat.isObject()) {
      sb.append(String.format(Locale.ROOT, "; latency p50 median %.2f ms, p99 median %.2f ms",
          lat.path("p50").path("median").asDouble(), lat.path("p99").path("median").asDouble()));
    }
    JsonNode ratio = s.path("ratio_vs_empty_queue");
    if (ratio.isObject()) {
      sb.append(String.format(Locale.ROOT, "; vs empty queue median %.3f", ratio.path("median").asDouble()));
    }
    sb.append(String.format(Locale.ROOT, "%n       rss per repetition %s MB, peak %s MB; heap after the last GC %s MB",
        s.path("server_rss_mb_per_repetition"), s.path("server_rss_peak_mb").asText(),
        s.path("heap_after_gc_mb_per_repetition")));
    if (s.has("heap_live_mb_per_repetition")) {
      sb.append(String.format(Locale.ROOT, "; live after a full GC %s MB", s.path("heap_live_mb_per_repetition")));
    }
    err.println(sb);
    err.flush();
  }

  private void progress(BenchConfig cfg, String msg) {
    if (!cfg.json && err != null) {
      err.println("bench: " + msg);
      err.flush();
    }
  }

  private static void closeQuietly(BenchTarget t) {
    if (t != null) {
      try {
        t.close();
      } catch (RuntimeException ignored) {
        // best effort
      }
    }
  }
}
