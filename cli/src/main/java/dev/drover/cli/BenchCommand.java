package dev.drover.cli;

import dev.drover.bench.BenchConfig;
import dev.drover.bench.BenchRunner;
import dev.drover.bench.BenchUsageException;
import dev.drover.bench.Workload;
import dev.drover.bench.Workloads;
import dev.drover.bench.jmh.JmhMain;
import dev.drover.examples.LocalConnection;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code drover bench <workload>}: a thin front over {@code dev.drover.bench} (module
 * {@code bench/}), where the workloads live. Plain {@code drover bench} lists them.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {
      "Benchmarks: throughput and trigger-to-start latency of named workloads, and JMH microbenchmarks. "
          + "Each workload starts its own server on a fresh embedded PostgreSQL in a temporary directory (per "
          + "repetition) unless --address or --database-url is given, and prints one JSON line per repetition."
    },
    synopsisSubcommandLabel = "WORKLOAD",
    subcommands = {
      BenchCommand.BurnDownCmd.class,
      BenchCommand.SteadyCmd.class,
      BenchCommand.LatencyCmd.class,
      BenchCommand.BulkCmd.class,
      BenchCommand.BulkPushCmd.class,
      BenchCommand.SpikeCmd.class,
      BenchCommand.ConcurrentTriggersCmd.class,
      BenchCommand.DagCmd.class,
      BenchCommand.BacklogCmd.class,
      BenchCommand.CeilingCmd.class,
      BenchCommand.TriggerAndDrainCmd.class,
      BenchCommand.JmhCmd.class
    },
    footer = {"", "Without a WORKLOAD: no options lists the workloads; options alone run trigger-and-drain (the first cut).",
      "Example: drover bench burn-down --runs 20000 --repeat 3 --json", "See bench/README.md."})
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  // The first cut's options: `drover bench --runs 5000` (options, no workload) still runs trigger-and-drain.
  @Mixin Common common;

  @Option(names = "--concurrency", paramLabel = "C",
      description = "With options but no WORKLOAD, runs trigger-and-drain (the first cut) with them.")
  Integer concurrency;

  @Override
  public Integer call() throws Exception {
    if (!spec.commandLine().getParseResult().matchedOptions().isEmpty()) {
      TriggerAndDrainCmd legacy = new TriggerAndDrainCmd();
      legacy.spec = spec;
      legacy.common = common;
      legacy.concurrency = concurrency;
      return legacy.call();
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println("Usage: drover bench WORKLOAD [options]   (drover bench WORKLOAD --help for its options)");
    out.println();
    out.println("Workloads:");
    for (Workload w : Workloads.all()) {
      out.printf("  %-20s %s%n", w.name(), w.description());
    }
    out.printf("  %-20s %s%n", "jmh", "JMH microbenchmarks (protobuf, Jackson, DAG, backoff); JMH options pass through");
    out.flush();
    return 0;
  }

  /** Options every workload takes. */
  static final class Common {
    @Option(names = "--runs", paramLabel = "N", description = "Measured runs (default: the workload's).")
    Integer runs;

    @Option(names = "--slots", paramLabel = "S", description = "Worker slots (default: the workload's).")
    Integer slots;

    @Option(names = "--warmup", paramLabel = "N", description = "Unmeasured warm-up runs per repetition (default 2000; 0 = none).")
    Integer warmup;

    @Option(names = "--warmup-time", paramLabel = "DURATION", converter = DurationConverter.class,
        description = "Repeat the warm-up rounds until this long has passed, then until the JIT has settled (two rounds"
            + " compiling <= 5%% of their time, at most 120 s in all), per repetition (default 10s; 0 = one round, no JIT"
            + " wait). On a small machine the JIT takes a minute to settle, and a Drover server runs for days.")
    Duration warmupTime;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1",
        description = "Repetitions, each on a fresh embedded database; then a summary line (median, min-max).")
    int repeat;

    @Option(names = "--heap-live", description = "In-process only: after each repetition's numbers are taken, force a full"
        + " collection and report the heap that survives it (heap_live_mb), the leak test for repeated runs. The collector"
        + " may then shrink the heap, so later repetitions' RSS starts lower than without it.")
    boolean heapLive;

    @Option(names = "--json", description = "Print only the JSON lines (no progress or summary on stderr).")
    boolean json;

    @Option(names = "--database-url", paramLabel = "URL",
        description = "Run the in-process server on this PostgreSQL (pass an EMPTY database) instead of an embedded one.")
    String databaseUrl;

    @Option(names = "--address", paramLabel = "HOST:PORT", description = "Use this running server instead of starting one.")
    String address;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Token for --address (env DROVER_TOKEN, else the admin.token file).")
    String token;

    @Option(names = "--stall-timeout", paramLabel = "DURATION", defaultValue = "60s", converter = DurationConverter.class,
        description = "Give up when no run completes for this long (default ${DEFAULT-VALUE}).")
    Duration stallTimeout;

    BenchConfig config() {
      BenchConfig c = new BenchConfig();
      c.runs = runs;
      c.slots = slots;
      c.warmup = warmup;
      c.warmupTime = warmupTime;
      c.repeat = repeat;
      c.json = json;
      c.heapLive = heapLive;
      c.databaseUrl = databaseUrl;
      c.address = address;
      c.token = token;
      c.stallTimeout = stallTimeout;
      return c;
    }
  }

  /** A workload subcommand: common options, its own options, then {@link BenchRunner}. */
  abstract static class WorkloadCmd implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin Common common;

    abstract String workload();

    void configure(BenchConfig c) {}

    @Override
    public Integer call() throws Exception {
      Logging.quiet();
      BenchConfig c = common.config();
      configure(c);
      try {
        c.validate();
        if (c.address != null) {
          c.address = LocalConnection.resolveAddress(c.address);
          c.token = LocalConnection.resolveToken(c.token);
        }
        new BenchRunner(spec.commandLine().getOut(), spec.commandLine().getErr()).run(Workloads.get(workload()), c);
      } catch (BenchUsageException e) {
        throw new Main.UsageException(e.getMessage());
      }
      return 0;
    }
  }

  @Command(name = "burn-down", mixinStandardHelpOptions = true, description = {
      "Enqueue --runs (200,000) no-op runs with runMany while no worker is connected, then start one worker "
          + "(--slots, 1,000) and time until all are done. Reports throughput and enqueue_per_s; latency is null."})
  static final class BurnDownCmd extends WorkloadCmd {
    @Option(names = "--batch-size", paramLabel = "N", description = "Runs per runMany call (default 10000).")
    Integer batchSize;

    @Override
    String workload() {
      return "burn-down";
    }

    @Override
    void configure(BenchConfig c) {
      c.batchSize = batchSize;
    }
  }

  @Command(name = "steady", mixinStandardHelpOptions = true, description = {
      "Open-loop single triggers at --rate for --duration while a worker drains; latency from the intended "
          + "send time (latency_ms) and from the actual call (latency_plain_ms)."})
  static final class SteadyCmd extends WorkloadCmd {
    @Option(names = "--rate", paramLabel = "PER_S", description = "Triggers per second (default 5000; the target is 30000).")
    Double rate;

    @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
        description = "How long to trigger (default 60s).")
    Duration duration;

    @Option(names = "--concurrency", paramLabel = "C", description = "Sender virtual threads (default 512).")
    Integer concurrency;

    @Option(names = "--dag", description = "Trigger the 4-step DAG (root, two parallel, join) instead of a no-op "
        + "step; adds run_latency_ms (intended send time to the join's first line) and steps_per_s.")
    boolean dag;

    @Override
    String workload() {
      return "steady";
    }

    @Override
    void configure(BenchConfig c) {
      c.rate = rate;
      c.duration = duration;
      c.concurrency = concurrency;
      c.dag = dag;
    }
  }

  @Command(name = "latency", mixinStandardHelpOptions = true, description = {
      "--runs (1,000) single triggers one at a time at --rate (100/s, open loop) into an idle worker."})
  static final class LatencyCmd extends WorkloadCmd {
    @Option(names = "--rate", paramLabel = "PER_S", description = "Triggers per second (default 100).")
    Double rate;

    @Override
    String workload() {
      return "latency";
    }

    @Override
    void configure(BenchConfig c) {
      c.rate = rate;
    }
  }

  @Command(name = "bulk", mixinStandardHelpOptions = true, description = {
      "Time runMany calls of --batch-size (10,000) runs until --runs (200,000) are accepted; no worker."})
  static final class BulkCmd extends WorkloadCmd {
    @Option(names = "--batch-size", paramLabel = "N", description = "Runs per runMany call (default 10000).")
    Integer batchSize;

    @Option(names = "--concurrency", paramLabel = "C", description = "Concurrent runMany callers (default 1).")
    Integer concurrency;

    @Override
    String workload() {
      return "bulk";
    }

    @Override
    void configure(BenchConfig c) {
      c.batchSize = batchSize;
      c.concurrency = concurrency;
    }
  }

  @Command(name = "bulk-push", mixinStandardHelpOptions = true, description = {
      "Time pushMany calls of --batch-size (10,000) events until --runs (100,000) are accepted, each event "
          + "starting one single-step run, worker connected. Throughput = events/s; completed_per_s = until all ran."})
  static final class BulkPushCmd extends WorkloadCmd {
    @Option(names = "--batch-size", paramLabel = "N", description = "Events per pushMany call (default 10000).")
    Integer batchSize;

    @Option(names = "--concurrency", paramLabel = "C", description = "Concurrent pushMany callers (default 1).")
    Integer concurrency;

    @Override
    String workload() {
      return "bulk-push";
    }

    @Override
    void configure(BenchConfig c) {
      c.batchSize = batchSize;
      c.concurrency = concurrency;
    }
  }

  @Command(name = "ceiling", mixinStandardHelpOptions = true, description = {
      "The store alone: --runs (200,000) no-op runs written as runMany writes them (COPY from 500 a batch) in batches of "
          + "--batch-size (10,000) from --concurrency (1) callers, then claimed (up to 500 per statement, --slots "
          + "1,000 in flight, one thread) and completed (64 per statement, two threads) by the engine's claim and "
          + "completion statements straight from JDBC: no engine, gRPC or worker. Throughput = drained runs/s; insert_per_s; what this schema gives."})
  static final class CeilingCmd extends WorkloadCmd {
    @Option(names = "--batch-size", paramLabel = "N", description = "Runs per insert transaction (default 10000).")
    Integer batchSize;

    @Option(names = "--concurrency", paramLabel = "N", description = "Inserting callers (default 1).")
    Integer concurrency;

    @Option(names = "--shape", paramLabel = "SHAPE", description = "today (the engine's three rows per run and its own"
        + " statements, default); one-row (one hot row per single-step run, moved to a history table at its success: the"
        + " redesign the remaining throughput targets point to, on scratch tables dropped afterwards); one-row-hot (the"
        + " same with indexes the claim does not touch); one-row-run-tables (one-row-hot, history in today's run and step tables);"
        + " one-row-no-history (one-row-hot deleting the row at its success, keeping nothing: what history costs).")
    String shape;

    @Option(names = "--mixed", description = "Insert while draining (the drain waits for runs not yet written): the"
        + " store-alone form of steady and concurrent-triggers; throughput = runs / (first insert to last completion).")
    boolean mixed;

    @Override
    String workload() {
      return "ceiling";
    }

    @Override
    void configure(BenchConfig c) {
      c.batchSize = batchSize;
      c.concurrency = concurrency;
      c.shape = shape;
      c.mixed = mixed;
    }
  }

  @Command(name = "spike", mixinStandardHelpOptions = true, description = {
      "Push a burst of --runs (100,000) events for one concurrency key (pushMany, 10,000 per call) while another "
          + "key triggers 20 runs/s. Throughput = burst events accepted/s; drained_seconds = until the burst ran; "
          + "latency = the other key's trigger-to-start during the spike."})
  static final class SpikeCmd extends WorkloadCmd {
    @Override
    String workload() {
      return "spike";
    }

    @Override
    void configure(BenchConfig c) {}
  }

  @Command(name = "concurrent-triggers", mixinStandardHelpOptions = true, description = {
      "--concurrency (32) callers each calling single runJson until --runs (100,000) are accepted, worker "
          + "connected. Throughput = triggers/s; end_to_end_per_s = until all ran."})
  static final class ConcurrentTriggersCmd extends WorkloadCmd {
    @Option(names = "--concurrency", paramLabel = "C", description = "Triggering threads (default 32).")
    Integer concurrency;

    @Override
    String workload() {
      return "concurrent-triggers";
    }

    @Override
    void configure(BenchConfig c) {
      c.concurrency = concurrency;
    }
  }

  @Command(name = "dag", mixinStandardHelpOptions = true, description = {
      "--runs (20,000) runs of a 4-step DAG (root, two parallel, join) via runMany while a worker drains. "
          + "Throughput = steps/s (4 x runs / seconds); runs_per_s too."})
  static final class DagCmd extends WorkloadCmd {
    @Option(names = "--batch-size", paramLabel = "N", description = "Runs per runMany call (default 10000).")
    Integer batchSize;

    @Override
    String workload() {
      return "dag";
    }

    @Override
    void configure(BenchConfig c) {
      c.batchSize = batchSize;
    }
  }

  @Command(name = "backlog", mixinStandardHelpOptions = true, description = {
      "Burn-down of --runs (200,000) with --backlog (1,000,000) runs of an unserved workflow already queued. "
          + "By default first measures the same burn-down on the empty queue (ratio_vs_empty_queue)."})
  static final class BacklogCmd extends WorkloadCmd {
    @Option(names = "--backlog", paramLabel = "N", description = "Queued runs nobody serves (default 1000000).")
    Integer backlog;

    @Option(names = "--batch-size", paramLabel = "N", description = "Runs per runMany call (default 10000).")
    Integer batchSize;

    @Option(names = "--no-baseline", description = "Skip the empty-queue burn-down before the pre-load.")
    boolean noBaseline;

    @Override
    String workload() {
      return "backlog";
    }

    @Override
    void configure(BenchConfig c) {
      c.backlog = backlog;
      c.batchSize = batchSize;
      c.baseline = !noBaseline;
    }
  }

  @Command(name = "trigger-and-drain", mixinStandardHelpOptions = true, description = {
      "The first cut: --runs (20,000) single triggers from --concurrency (32) threads against a worker with "
          + "--slots (200); throughput end to end, trigger_throughput_per_s for the triggers alone."})
  static final class TriggerAndDrainCmd extends WorkloadCmd {
    @Option(names = "--concurrency", paramLabel = "C", description = "Triggering threads (default 32).")
    Integer concurrency;

    @Override
    String workload() {
      return "trigger-and-drain";
    }

    @Override
    void configure(BenchConfig c) {
      c.concurrency = concurrency;
    }
  }

  @Command(name = "jmh", description = {
      "JMH microbenchmarks of hot in-process paths. Arguments go to JMH (-h for its help, -l to list, a "
          + "regex to select); default 1 fork, 2 warm-up and 3 measurement iterations of 1 s."})
  static final class JmhCmd implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Unmatched List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
      return JmhMain.run(args.toArray(new String[0]), spec.commandLine().getErr());
    }
  }
}
