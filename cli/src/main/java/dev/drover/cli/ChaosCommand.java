package dev.drover.cli;

import dev.drover.bench.chaos.ChaosConfig;
import dev.drover.bench.chaos.ChaosHarness;
import dev.drover.bench.chaos.ChaosResult;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code drover chaos}: the fault-injection suite (module {@code bench/}, package
 * {@code dev.drover.bench.chaos}) from the command line, for a longer soak than the test suite's.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = {
      "Fault injection: starts an embedded PostgreSQL, several servers and worker processes, pushes runs while "
          + "killing workers (SIGKILL, repeatedly), one server (SIGKILL + restart), restarting PostgreSQL once and "
          + "terminating database connections; then checks every accepted run against the steps' own ledger, "
          + "that a 1-second cron fired every tick once and that a concurrency limit (2 per key) held, and prints "
          + "one summary line and the engine's table sizes (rows/bytes) before, at the peak and after. "
          + "Exit 1 when a run was lost or stuck, a tick missed or doubled, or a limit exceeded."
    },
    footer = {"",
        "Examples:",
        "  drover chaos                    # 20,000 runs, as the test suite does",
        "  drover chaos --duration 30m     # a soak; history pruned after 2m",
        "  drover chaos --rolling-restart  # graceful restart of every process"})
final class ChaosCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--runs", paramLabel = "N", defaultValue = "20000", description = "Runs to push (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--minutes", paramLabel = "M", description = "Soak: keep pushing work for M minutes instead of --runs.")
  Double minutes;

  @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Soak: keep pushing work this long (e.g. 30m) instead of --runs.")
  Duration duration;

  @Option(names = "--retention", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "The servers' DROVER_RETENTION (default: 2m in a soak, so pruning is exercised and the hot and "
          + "history tables' sizes show it; otherwise the server default).")
  Duration retention;

  @Option(names = "--rolling-restart",
      description = "Instead of the faults: stop every server, then every worker, with SIGTERM and start it again, "
          + "one at a time, under a steady load (see --rate); pushes until the last one is back.")
  boolean rolling;

  @Option(names = "--rate", paramLabel = "N", defaultValue = "0",
      description = "Push at most N runs per second (0 = as fast as a bounded backlog allows; the default).")
  int rate;

  @Option(names = "--servers", paramLabel = "N", defaultValue = "2", description = "Server processes (default ${DEFAULT-VALUE}).")
  int servers;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "3", description = "Worker processes (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--settle-timeout", paramLabel = "DURATION", defaultValue = "3m", converter = DurationConverter.class,
      description = "How long to wait, after the faults stop, for every accepted run to end (default ${DEFAULT-VALUE}).")
  Duration settle;

  @Option(names = "--jar", paramLabel = "PATH", description = "The drover.jar the processes run from (default: this one).")
  Path jar;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Where databases and process logs go (default: a temporary directory).")
  Path workDir;

  @Option(names = "--worker-single-address",
      description = "Give each worker only its own server's address (no client-side failover between servers).")
  boolean oneAddress;

  @Option(names = "--json", description = "Print the result as one JSON object instead of the summary line.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (servers < 1 || workers < 1 || runs < 1 || rate < 0 || (minutes != null && minutes <= 0)
        || (duration != null && (duration.isZero() || duration.isNegative()))
        || (retention != null && (retention.isZero() || retention.isNegative()))) {
      err.println("--servers, --workers, --runs, --minutes, --duration and --retention must be positive, --rate not negative");
      return Main.EXIT_USAGE;
    }
    if (minutes != null && duration != null) {
      err.println("--minutes and --duration: give one");
      return Main.EXIT_USAGE;
    }
    Path self = jar != null ? jar : Path.of(ChaosCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (!Files.isRegularFile(self)) {
      err.println("--jar: no drover.jar at " + self + " (run from the shaded jar or pass --jar)");
      return Main.EXIT_USAGE;
    }
    Path dir = workDir != null ? workDir : Files.createTempDirectory("drover-chaos-");
    ChaosConfig cfg = ChaosConfig.defaults(self, dir).withRuns(runs).withProcesses(servers, workers)
        .withLog(s -> {
          err.println(s);
          err.flush();
        });
    cfg = cfg.withSettleTimeout(settle).withWorkerFailover(!oneAddress).withPushRate(rate);
    Duration soak = duration != null ? duration : minutes != null ? Duration.ofMillis((long) (minutes * 60_000)) : null;
    if (soak != null) cfg = cfg.withSoak(soak);
    if (rolling) cfg = cfg.withScenario(ChaosConfig.Scenario.ROLLING_RESTART);
    Duration keep = retention != null ? retention : soak != null ? Duration.ofMinutes(2) : null;
    if (keep != null) cfg = cfg.withRetention(keep);
    err.println("chaos: work directory " + dir + " (process logs in logs/)");
    ChaosResult r;
    try (ChaosHarness h = new ChaosHarness(cfg)) {
      r = h.run();
    }
    for (String p : r.problems()) err.println("problem: " + p);
    if (json) {
      out.println(r.toJson());
    } else {
      out.println(r.summaryLine());
      out.println(r.tablesLine());
    }
    out.flush();
    return r.ok() ? 0 : Main.EXIT_FAILURE;
  }
}
