package dev.drover.bench.chaos;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of one chaos run.
 *
 * @param droverJar the shaded {@code drover.jar} the server and worker processes run from
 * @param workDir where databases, server data and process logs go (created)
 * @param runs runs to push (ignored when {@code soak} is set, and in {@link Scenario#ROLLING_RESTART})
 * @param soak keep pushing work this long instead of a fixed count (null = count mode)
 * @param servers server processes (2 or 3)
 * @param workers worker processes
 * @param workerSlots slots per worker
 * @param settleTimeout how long to wait, after the faults stop, for every accepted run to be final
 * @param log where progress lines go (null = silent)
 * @param workerFailover give each worker every server address (the SDK fails over between them);
 *     false = each worker gets only its own server's address and waits for that one to come back
 * @param retention the servers' {@code DROVER_RETENTION} (null = their default, 30 days): a short
 *     one makes a soak exercise pruning, so the table sizes show whether hot tables stay small
 * @param scenario which faults to inject
 * @param pushRate runs per second to push at most (0 = as fast as the backlog bound lets)
 */
public record ChaosConfig(
    Path droverJar,
    Path workDir,
    int runs,
    Duration soak,
    int servers,
    int workers,
    int workerSlots,
    Duration settleTimeout,
    java.util.function.Consumer<String> log,
    boolean workerFailover,
    Duration retention,
    Scenario scenario,
    int pushRate) {

  /** What the harness does to the processes while the work flows. */
  public enum Scenario {
    /**
     * SIGKILL of random workers (repeatedly), SIGKILL and restart of one server, a PostgreSQL
     * stop/start and {@code pg_terminate_backend} of server connections.
     */
    FAULTS,
    /**
     * A rolling restart: every server, then every worker, stopped gracefully (SIGTERM) and started
     * again one at a time, each back (ready, or registered) before the next; work is pushed until
     * the last one is back.
     */
    ROLLING_RESTART
  }

  /** Defaults: 20,000 runs, 2 servers, 3 workers of 50 slots, 3 minutes to settle, {@link Scenario#FAULTS}. */
  public static ChaosConfig defaults(Path droverJar, Path workDir) {
    return new ChaosConfig(droverJar, workDir, 20_000, null, 2, 3, 50, Duration.ofMinutes(3), System.err::println, true,
        null, Scenario.FAULTS, 0);
  }

  /** With a different run count. */
  public ChaosConfig withRuns(int n) {
    return new ChaosConfig(droverJar, workDir, n, soak, servers, workers, workerSlots, settleTimeout, log, workerFailover,
        retention, scenario, pushRate);
  }

  /** Soak mode: push work for this long. */
  public ChaosConfig withSoak(Duration d) {
    return new ChaosConfig(droverJar, workDir, runs, d, servers, workers, workerSlots, settleTimeout, log, workerFailover,
        retention, scenario, pushRate);
  }

  /** With other process counts. */
  public ChaosConfig withProcesses(int serverCount, int workerCount) {
    return new ChaosConfig(droverJar, workDir, runs, soak, serverCount, workerCount, workerSlots, settleTimeout, log,
        workerFailover, retention, scenario, pushRate);
  }

  /** With another settle timeout. */
  public ChaosConfig withSettleTimeout(Duration d) {
    return new ChaosConfig(droverJar, workDir, runs, soak, servers, workers, workerSlots, d, log, workerFailover,
        retention, scenario, pushRate);
  }

  /** With or without giving workers every server address. */
  public ChaosConfig withWorkerFailover(boolean on) {
    return new ChaosConfig(droverJar, workDir, runs, soak, servers, workers, workerSlots, settleTimeout, log, on,
        retention, scenario, pushRate);
  }

  /** With another progress sink. */
  public ChaosConfig withLog(java.util.function.Consumer<String> sink) {
    return new ChaosConfig(droverJar, workDir, runs, soak, servers, workers, workerSlots, settleTimeout, sink,
        workerFailover, retention, scenario, pushRate);
  }

  /** With the servers' history retention (null = their default). */
  public ChaosConfig withRetention(Duration d) {
    return new ChaosConfig(droverJar, workDir, runs, soak, servers, workers, workerSlots, settleTimeout, log,
        workerFailover, d, scenario, pushRate);
  }

  /** With another scenario. */
  public ChaosConfig withScenario(Scenario s) {
    return new ChaosConfig(droverJar, workDir, runs, soak, servers, workers, workerSlots, settleTimeout, log,
        workerFailover, retention, s, pushRate);
  }

  /** With a cap on the push rate (runs per second; 0 = none). */
  public ChaosConfig withPushRate(int perSecond) {
    return new ChaosConfig(droverJar, workDir, runs, soak, servers, workers, workerSlots, settleTimeout, log,
        workerFailover, retention, scenario, perSecond);
  }
}
