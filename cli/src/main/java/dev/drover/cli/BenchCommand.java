package dev.drover.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drover.examples.LocalConnection;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Worker;
import dev.drover.server.DroverServer;
import dev.drover.server.config.ConfigException;
import dev.drover.server.config.ServerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code drover bench}: the "trigger-and-drain" workload. Triggers N single-step runs from C
 * threads against a worker with S slots and measures the time until all of them have run, plus the
 * trigger-to-step-start latency.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {
      "Benchmarks trigger-and-drain throughput and latency.",
      "Triggers N no-op single-step runs from C threads; a worker in this process executes them. By default",
      "starts its own server on a fresh embedded PostgreSQL in a temporary directory (deleted afterwards).",
      "Prints one JSON line on stdout (and, unless --json, a summary on stderr)."
    })
final class BenchCommand implements Callable<Integer> {
  private static final List<String> SERVER_ENV = List.of("DROVER_DATA_DIR", "DROVER_HTTP_PORT", "DROVER_GRPC_PORT",
      "DROVER_TOKEN", "DROVER_DATABASE_URL", "DROVER_BIND_ADDRESS", "DROVER_EMBEDDED_PG_PORT");

  @Spec CommandSpec spec;

  @Option(names = "--runs", paramLabel = "N", defaultValue = "20000", description = "Measured runs (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--slots", paramLabel = "S", defaultValue = "200", description = "Worker slots (default ${DEFAULT-VALUE}).")
  int slots;

  @Option(names = "--concurrency", paramLabel = "C", defaultValue = "32", description = "Triggering threads (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "2000", description = "Unmeasured warm-up runs (default ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--database-url", paramLabel = "URL",
      description = "Run the in-process server on this PostgreSQL instead of a fresh embedded one.")
  String databaseUrl;

  @Option(names = "--address", paramLabel = "HOST:PORT", description = "Use this running server instead of starting one.")
  String address;

  @Option(names = "--token", paramLabel = "TOKEN", description = "Token for --address (env DROVER_TOKEN, else the admin.token file).")
  String token;

  @Option(names = "--stall-timeout", paramLabel = "DURATION", defaultValue = "60s", converter = DurationConverter.class,
      description = "Give up when no run completes for this long (default ${DEFAULT-VALUE}).")
  Duration stallTimeout;

  @Option(names = "--json", description = "Print only the JSON line (no summary on stderr).")
  boolean json;

  private PrintWriter err;

  @Override
  public Integer call() throws Exception {
    Logging.quiet();
    err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    check(runs >= 1, "--runs: must be at least 1");
    check(slots >= 1, "--slots: must be at least 1");
    check(concurrency >= 1 && concurrency <= 4096, "--concurrency: must be between 1 and 4096");
    check(warmup >= 0, "--warmup: must not be negative");
    check(address == null || databaseUrl == null, "--address and --database-url: give one or the other");
    check(address != null || token == null, "--token: only meaningful with --address");

    AtomicReference<DroverServer> server = new AtomicReference<>();
    AtomicReference<Path> tempDir = new AtomicReference<>();
    AtomicBoolean cleaned = new AtomicBoolean();
    Runnable cleanup = () -> {
      if (cleaned.compareAndSet(false, true)) {
        DroverServer s = server.get();
        if (s != null) {
          s.close();
        }
        deleteRecursively(tempDir.get());
      }
    };
    Thread hook = new Thread(cleanup, "drover-bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      String addr;
      String tok;
      Map<String, String> pgSettings = new TreeMap<>();
      if (address == null) {
        tempDir.set(Files.createTempDirectory("drover-bench-"));
        progress(databaseUrl == null
            ? "starting a server on a fresh embedded PostgreSQL in " + tempDir.get()
            : "starting a server on " + databaseUrl.replaceAll("://([^:/@]+):[^@]*@", "://$1:***@"));
        Map<String, String> env = new HashMap<>(System.getenv());
        SERVER_ENV.forEach(env::remove);
        ServerConfig.Overrides o = new ServerConfig.Overrides();
        o.dataDir = tempDir.get().toString();
        o.databaseUrl = databaseUrl;
        o.httpPort = "0";
        o.grpcPort = "0";
        o.bindAddress = "127.0.0.1";
        try {
          server.set(DroverServer.start(ServerConfig.fromEnvironment(env, o)));
        } catch (ConfigException e) {
          throw new Main.UsageException(e.getMessage());
        } catch (IOException | RuntimeException e) {
          throw new IllegalStateException("could not start the server: " + ServerCommand.describe(e), e);
        }
        addr = "127.0.0.1:" + server.get().grpcPort();
        tok = server.get().token();
        pgSettings.putAll(server.get().databaseSettings());
      } else {
        addr = LocalConnection.resolveAddress(address);
        tok = LocalConnection.resolveToken(token);
      }

      Result result;
      BenchWorkflow wf = new BenchWorkflow();
      try (DroverClient workerClient = LocalConnection.connect(addr, tok);
          DroverClient triggerClient = LocalConnection.connect(addr, tok)) {
        Worker worker = workerClient.newWorker("bench").register(wf).slots(slots).start();
        try {
          if (warmup > 0) {
            progress("warming up: " + warmup + " runs");
            phase(triggerClient, wf, warmup, true);
          }
          progress("measuring: " + runs + " runs from " + concurrency + " threads, worker slots " + slots);
          result = phase(triggerClient, wf, runs, false);
        } finally {
          worker.close(Duration.ofSeconds(5));
        }
      }

      ObjectNode o = Output.MAPPER.createObjectNode();
      o.put("workload", "trigger-and-drain");
      o.put("runs", runs);
      o.put("concurrency", concurrency);
      o.put("slots", slots);
      o.put("warmup", warmup);
      o.put("seconds", round(result.seconds, 3));
      o.put("throughput_per_s", round(runs / result.seconds, 1));
      o.put("trigger_throughput_per_s", round(runs / result.triggerSeconds, 1));
      o.set("latency_ms", percentiles(result.latency));
      o.set("trigger_call_ms", percentiles(result.triggerCall));
      if (server.get() != null) {
        Long rss = selfRssMb();
        if (rss == null) {
          o.putNull("server_rss_mb");
        } else {
          o.put("server_rss_mb", rss);
        }
        o.put("server", databaseUrl == null ? "in-process, embedded PostgreSQL" : "in-process, external PostgreSQL");
      } else {
        o.putNull("server_rss_mb");
        o.put("server", "external at " + addr);
      }
      ObjectNode pg = o.putObject("postgres");
      pgSettings.forEach(pg::put);
      ObjectNode m = o.putObject("machine");
      m.put("cores", Runtime.getRuntime().availableProcessors());
      m.put("memory_gb", round(totalMemoryBytes() / (1024.0 * 1024 * 1024), 1));
      m.put("java", Runtime.version().toString());
      m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
      o.put("git_commit", gitCommit());
      out.println(Output.json(o));
      out.flush();

      if (!json) {
        Histogram h = result.latency;
        err.printf(java.util.Locale.ROOT,
            "bench: %d runs in %.2f s = %.0f runs/s end to end (triggering alone: %.0f runs/s);%n"
                + "       trigger-to-step-start latency p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms%n",
            runs, result.seconds, runs / result.seconds, runs / result.triggerSeconds,
            ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(95)), ms(h.getValueAtPercentile(99)),
            ms(h.getMaxValue()));
        err.flush();
      }
      return 0;
    } finally {
      cleanup.run();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException ignored) {
        // already shutting down
      }
    }
  }

  private record Result(double seconds, double triggerSeconds, Histogram latency, Histogram triggerCall) {}

  private Result phase(DroverClient client, BenchWorkflow wf, int n, boolean warm) throws InterruptedException {
    BenchWorkflow.Phase p = wf.begin(n, warm);
    Recorder triggerCall = new Recorder(3);
    AtomicInteger next = new AtomicInteger();
    AtomicLong lastTriggerEnd = new AtomicLong();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime();
    for (int c = 0; c < concurrency; c++) {
      threads.add(Thread.ofPlatform().name("bench-trigger-" + c).daemon(true).start(() -> {
        int i;
        while (failure.get() == null && (i = next.getAndIncrement()) < n) {
          long t = System.nanoTime();
          try {
            client.runJson(BenchWorkflow.NAME, "{\"i\":" + i + ",\"t\":" + t + ",\"w\":" + warm + "}",
                RunOptions.defaults());
          } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
            return;
          }
          long end = System.nanoTime();
          triggerCall.recordValue(end - t);
          lastTriggerEnd.accumulateAndGet(end, Math::max);
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
    long lastDone = 0;
    long lastProgress = System.nanoTime();
    while (p.done.get() < n) {
      long d = p.done.get();
      if (d != lastDone) {
        lastDone = d;
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > stallTimeout.toNanos()) {
        throw new IllegalStateException("stalled: " + d + " of " + n + (warm ? " warm-up" : "")
            + " runs executed, none for " + stallTimeout.toSeconds() + " s");
      }
      Thread.sleep(2);
    }
    // The step of the last run has returned; the run counts once the server has recorded it.
    String lastRunId = p.lastRunId;
    RunInfo last = client.awaitRun(lastRunId, stallTimeout);
    long end = System.nanoTime();
    if (last.status() != RunStatus.SUCCEEDED) {
      throw new IllegalStateException("the last run " + lastRunId + " ended " + last.status()
          + (last.error() == null ? "" : ": " + last.error()));
    }
    return new Result((end - start) / 1e9, Math.max(1, lastTriggerEnd.get() - start) / 1e9,
        p.latency.getIntervalHistogram(), triggerCall.getIntervalHistogram());
  }

  private void check(boolean ok, String message) {
    if (!ok) {
      throw new Main.UsageException(message);
    }
  }

  private void progress(String message) {
    if (!json) {
      err.println("bench: " + message);
      err.flush();
    }
  }

  private static ObjectNode percentiles(Histogram h) {
    ObjectNode o = Output.MAPPER.createObjectNode();
    o.put("p50", round(ms(h.getValueAtPercentile(50)), 3));
    o.put("p95", round(ms(h.getValueAtPercentile(95)), 3));
    o.put("p99", round(ms(h.getValueAtPercentile(99)), 3));
    o.put("max", round(ms(h.getMaxValue()), 3));
    return o;
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static double round(double v, int places) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return v;
    }
    return BigDecimal.valueOf(v).setScale(places, RoundingMode.HALF_UP).doubleValue();
  }

  /** Resident set size of this process from /proc/self/status, or null off Linux. */
  static Long selfRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          String kb = line.substring(6).trim().split("\\s+")[0];
          return Math.round(Long.parseLong(kb) / 1024.0);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return null;
  }

  private static long totalMemoryBytes() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return Runtime.getRuntime().maxMemory();
  }

  /** {@code git rev-parse --short HEAD} run next to the jar (the repository it was built from). */
  static String gitCommit() {
    try {
      Path dir = Path.of("").toAbsolutePath();
      var src = BenchCommand.class.getProtectionDomain().getCodeSource();
      if (src != null) {
        Path p = Path.of(src.getLocation().toURI());
        dir = Files.isDirectory(p) ? p : p.getParent();
      }
      Process proc = new ProcessBuilder("git", "rev-parse", "--short", "HEAD")
          .directory(dir.toFile()).redirectErrorStream(true).start();
      proc.getOutputStream().close();
      if (!proc.waitFor(5, TimeUnit.SECONDS)) {
        proc.destroyForcibly();
        return "unknown";
      }
      String outText = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return proc.exitValue() == 0 && !outText.isEmpty() && !outText.contains(" ") ? outText : "unknown";
    } catch (Exception e) {
      return "unknown";
    }
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // best effort
        }
      });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
