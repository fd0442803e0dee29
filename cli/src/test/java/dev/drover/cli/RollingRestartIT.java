package dev.drover.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.bench.chaos.ChaosConfig;
import dev.drover.bench.chaos.ChaosHarness;
import dev.drover.bench.chaos.ChaosResult;
import dev.drover.bench.chaos.ChaosWorkflows;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * "A rolling restart of every server and worker under load fails no run" (issue 6): 2 server
 * processes from {@code target/drover.jar} on one embedded PostgreSQL, 3 worker processes given
 * both addresses, a steady stream of runs (single steps, 4-step DAGs, a step that fails its first
 * attempt, a concurrency-limited workflow) and a 1-second cron; then every server and then every
 * worker is stopped with SIGTERM ({@code Process.destroy()}) and started again, one at a time, each
 * back (ready, or registered) before the next goes. Every accepted run must end SUCCEEDED, the
 * ledger must show no unexplained execution, the cron must fire every tick once (one server is
 * always up, so none may even be collapsed) and the concurrency limit must hold.
 *
 * <p>Runs under failsafe ({@code mvn verify}), after the shaded jar is packaged, with the harness
 * of {@link FaultInjectionIT} ({@link ChaosConfig.Scenario#ROLLING_RESTART}).
 */
class RollingRestartIT {

  @Test
  @Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
  void rollingRestartOfEveryServerAndWorkerFailsNoRun() throws Exception {
    Path jar = Path.of(System.getProperty("drover.jar", "target/drover.jar")).toAbsolutePath();
    assertThat(jar).as("the shaded jar (mvn package builds it)").isRegularFile();
    Path base = Path.of(System.getProperty("drover.chaos.dir", "target/chaos")).toAbsolutePath();
    Files.createDirectories(base);
    Path dir = Files.createTempDirectory(base, "rolling-");
    ChaosConfig cfg = ChaosConfig.defaults(jar, dir)
        .withScenario(ChaosConfig.Scenario.ROLLING_RESTART)
        .withProcesses(2, 3)
        .withPushRate(Integer.getInteger("drover.rolling.rate", 150))
        .withSettleTimeout(Duration.ofMinutes(2));

    ChaosResult r;
    try (ChaosHarness harness = new ChaosHarness(cfg)) {
      r = harness.run();
    } // close() SIGKILLs every process it started and stops PostgreSQL, also on failure
    System.out.println(r.summaryLine());
    System.out.println(r.tablesLine());
    r.problems().forEach(p -> System.out.println("problem: " + p));

    assertThat(r.gracefulRestarts()).as("servers and workers restarted: %s", r.problems()).isEqualTo(2 + 3);
    assertThat(r.forcedStops()).as("processes that ignored SIGTERM past their deadline").isZero();
    assertThat(r.accepted()).as("runs pushed during the restarts").isGreaterThan(1_000);
    assertThat(r.stuck()).as("stuck runs: %s", r.problems()).isZero();
    assertThat(r.lost()).as("failed or lost runs: %s", r.problems()).isZero();
    assertThat(r.completed()).isEqualTo(r.accepted());
    assertThat(r.duplicates()).as("unexplained duplicate executions: %s", r.problems()).isZero();
    assertThat(r.cronMissing()).as("missing cron ticks: %s", r.problems()).isZero();
    assertThat(r.cronDoubled()).as("doubled cron ticks: %s", r.problems()).isZero();
    assertThat(r.cronCollapsed()).as("a server was always up: no tick may be late enough to collapse").isZero();
    assertThat(r.cronUnfinished()).as("cron runs not succeeded: %s", r.problems()).isZero();
    assertThat(r.concurrencyMax()).as("most runs of one key executing at once: %s", r.problems())
        .isBetween(1, ChaosWorkflows.LIMIT);
    // Rate limit: units granted per (key, window) counted from the ledger (see LedgerChecks.rates).
    assertThat(r.rateUnverifiable()).as("rate-limited executions without a usable grant: %s", r.problems()).isZero();
    assertThat(r.rateMax()).as("most units of one key granted in one window: %s", r.problems())
        .isBetween(1, ChaosWorkflows.RATE);
    deleteRecursively(dir.resolve("postgres"));
  }

  private static void deleteRecursively(Path p) throws java.io.IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var paths = Files.walk(p)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
    }
  }
}
