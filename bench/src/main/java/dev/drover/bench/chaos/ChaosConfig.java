package dev.drover.bench.chaos;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of one chaos run.
 *
 * @param droverJar the shaded {@code drover.jar} the server and worker processes run from
 * @param workDir where databases, server data and process logs go (created)
 * @param runs runs to push (ignored when {@code soak} is set)
 * @param soak keep pushing work this long instead of a fixed count (null = count mode)
 * @param servers server processes (2 or 3)
 * @param workers worker processes
 * @param workerSlots slots per worker
 * @param settleTimeout how long to wait, after the faults stop, for every accepted run to be final
 * @param log where progress lines go (null = silent)
 * @param workerFailover give each worker every server address (the SDK fails over between them);
 *     false = each worker gets only its own server's address and waits for that one to come back
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
    boolean workerFailover) {

  /** Defaults: 20,000 runs, 2 servers, 3 workers of 50 slots, 3 minutes to settle. */
  public static ChaosConfig defaults(Path droverJar, Path workDir) {
    return new ChaosConfig(droverJar, workDir, 20_000, null, 2, 3, 50, Duration.ofMinutes(3), System.err::println, true);
  }

  /** With a different run count. */
  public ChaosConfig withRuns(int n) {
    return new ChaosConfig(droverJar, workDir, n, soak, servers, workers, workerSlots, settleTimeout, log, workerFailover);
  }

  /** Soak mode: push work for this long. */
  public ChaosConfig withSoak(Duration d) {
    return new ChaosConfig(droverJar, workDir, runs, d, servers, workers, workerSlots, settleTimeout, log, workerFailover);
  }

  /** With other process counts. */
  public ChaosConfig withProcesses(int serverCount, int workerCount) {
    return new ChaosConfig(droverJar, workDir, runs, soak, serverCount, workerCount, workerSlots, settleTimeout, log, workerFailover);
  }

  /** With another settle timeout. */
  public ChaosConfig withSettleTimeout(Duration d) {
    return new ChaosConfig(droverJar, workDir, runs, soak, servers, workers, workerSlots, d, log, workerFailover);
  }

  /** With or without giving workers every server address. */
  public ChaosConfig withWorkerFailover(boolean on) {
    return new ChaosConfig(droverJar, workDir, runs, soak, servers, workers, workerSlots, settleTimeout, log, on);
  }

  /** With another progress sink. */
  public ChaosConfig withLog(java.util.function.Consumer<String> sink) {
    return new ChaosConfig(droverJar, workDir, runs, soak, servers, workers, workerSlots, settleTimeout, sink, workerFailover);
  }
}
