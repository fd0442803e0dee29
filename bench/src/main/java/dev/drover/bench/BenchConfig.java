package dev.drover.bench;

import java.time.Duration;

/**
 * The options of one {@code drover bench <workload>} invocation. A {@code null} field means "the
 * workload's default" (see {@link Workload#defaults()}); the CLI fills it from picocli, tests set it
 * directly.
 *
 * <pre>{@code
 * BenchConfig c = new BenchConfig();
 * c.runs = 200;
 * c.repeat = 1;
 * new BenchRunner(out, err, true).run(Workloads.get("burn-down"), c);
 * }</pre>
 */
public final class BenchConfig {
  /** Measured runs ({@code --runs}). */
  public Integer runs;
  /** Worker slots ({@code --slots}). */
  public Integer slots;
  /** Unmeasured warm-up runs per repetition ({@code --warmup}). */
  public Integer warmup;
  /**
   * Least time the warm-up takes per repetition ({@code --warmup-time}): rounds of {@link #warmup}
   * runs are repeated until it has passed.
   */
  public Duration warmupTime;
  /** Repetitions ({@code --repeat}). */
  public int repeat = 1;
  /**
   * In-process: force a full collection after each repetition's numbers and report the heap that
   * survives it ({@code --heap-live}).
   */
  public boolean heapLive;
  /** Only JSON lines, no human summary on stderr ({@code --json}). */
  public boolean json;
  /** In-process server on this external PostgreSQL (it must start empty). */
  public String databaseUrl;
  /** A running server instead of an in-process one. */
  public String address;
  /** Token for {@link #address}. */
  public String token;
  /** Give up when no run completes for this long. */
  public Duration stallTimeout = Duration.ofSeconds(60);
  /** steady, latency: triggers per second ({@code --rate}). */
  public Double rate;
  /** steady: how long to trigger ({@code --duration}). */
  public Duration duration;
  /** steady: trigger the 4-step DAG instead of the single no-op step ({@code --dag}). */
  public boolean dag;
  /** Concurrent callers ({@code --concurrency}): trigger threads, bulk callers, steady senders. */
  public Integer concurrency;
  /** backlog: queued runs of an unserved workflow loaded before the burn-down ({@code --backlog}). */
  public Integer backlog;
  /** backlog: also measure an empty-queue burn-down first in the same repetition ({@code --baseline}). */
  public boolean baseline = true;
  /** Runs per {@code runMany} call ({@code --batch-size}, at most 10,000). */
  public Integer batchSize;
  /** ceiling: the store shape measured, {@code today}, {@code one-row}, {@code one-row-hot}, {@code one-row-run-tables} or {@code one-row-no-history} ({@code --shape}). */
  public String shape;
  /** ceiling: insert while draining instead of before ({@code --mixed}). */
  public boolean mixed;

  /** Creates a configuration with every workload default. */
  public BenchConfig() {}

  int runsOr(int d) {
    return runs != null ? runs : d;
  }

  int slotsOr(int d) {
    return slots != null ? slots : d;
  }

  int warmupOr(int d) {
    return warmup != null ? warmup : d;
  }

  Duration warmupTimeOr(Duration d) {
    return warmupTime != null ? warmupTime : d;
  }

  double rateOr(double d) {
    return rate != null ? rate : d;
  }

  Duration durationOr(Duration d) {
    return duration != null ? duration : d;
  }

  int concurrencyOr(int d) {
    return concurrency != null ? concurrency : d;
  }

  int backlogOr(int d) {
    return backlog != null ? backlog : d;
  }

  String shapeOr(String d) {
    return shape != null ? shape : d;
  }

  int batchSizeOr(int d) {
    return batchSize != null ? batchSize : d;
  }

  /**
   * Rejects inconsistent options with a {@link BenchUsageException} naming the option.
   */
  public void validate() {
    check(runs == null || runs >= 1, "--runs: must be at least 1");
    check(slots == null || slots >= 1, "--slots: must be at least 1");
    check(warmup == null || warmup >= 0, "--warmup: must not be negative");
    check(warmupTime == null || !warmupTime.isNegative(), "--warmup-time: must not be negative");
    check(repeat >= 1, "--repeat: must be at least 1");
    check(rate == null || (rate > 0 && rate <= 1_000_000), "--rate: must be between 0 and 1,000,000 per second");
    check(duration == null || (!duration.isNegative() && !duration.isZero()), "--duration: must be positive");
    check(concurrency == null || (concurrency >= 1 && concurrency <= 10_000), "--concurrency: must be between 1 and 10,000");
    check(backlog == null || backlog >= 0, "--backlog: must not be negative");
    check(batchSize == null || (batchSize >= 1 && batchSize <= 10_000), "--batch-size: must be between 1 and 10,000");
    check(shape == null || Ceiling.SHAPES.contains(shape),
        "--shape: must be one of " + String.join(", ", Ceiling.SHAPES));
    check(stallTimeout != null && !stallTimeout.isNegative() && !stallTimeout.isZero(), "--stall-timeout: must be positive");
    check(address == null || databaseUrl == null, "--address and --database-url: give one or the other");
    check(address != null || token == null, "--token: only meaningful with --address");
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new BenchUsageException(message);
    }
  }
}
