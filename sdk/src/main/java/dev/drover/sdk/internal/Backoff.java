package dev.drover.sdk.internal;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with optional "equal jitter": the n-th delay is {@code min * 2^n} capped at
 * {@code max}, then drawn uniformly from its upper {@code jitter} fraction, and never below
 * {@code min}. Jitter spreads out many workers reconnecting to a restarted server at once.
 *
 * <pre>{@code
 * Backoff b = new Backoff(100, 5_000, 0.5);
 * Thread.sleep(b.next());   // 50..100 ms clamped to >= 100, then 100..200, ...
 * b.reset();                // after a success
 * }</pre>
 */
public final class Backoff {
  private final long minMs;
  private final long maxMs;
  private final double jitter;
  private int attempt;

  /**
   * @param minMs first (and smallest) delay, at least 1
   * @param maxMs largest delay, at least {@code minMs}
   * @param jitter fraction in [0, 1] of the delay that is randomized
   */
  public Backoff(long minMs, long maxMs, double jitter) {
    if (minMs < 1 || maxMs < minMs || jitter < 0 || jitter > 1) {
      throw new IllegalArgumentException("bad backoff " + minMs + ".." + maxMs + " jitter " + jitter);
    }
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.jitter = jitter;
  }

  /** The next delay in milliseconds; each call grows the delay until it reaches the cap. */
  public long next() {
    long d = delayMs(attempt, minMs, maxMs, jitter, ThreadLocalRandom.current().nextDouble());
    if (attempt < 62) {
      attempt++;
    }
    return d;
  }

  /** Number of delays handed out since the last reset. */
  public int attempts() {
    return attempt;
  }

  /** Starts again from the smallest delay. */
  public void reset() {
    attempt = 0;
  }

  /**
   * The pure computation behind {@link #next()}: always within {@code [minMs, maxMs]}.
   *
   * @param attempt 0-based number of the delay
   * @param random a value in [0, 1)
   */
  public static long delayMs(int attempt, long minMs, long maxMs, double jitter, double random) {
    // Computed in double so that large attempt numbers saturate instead of overflowing.
    double base = Math.min((double) maxMs, minMs * Math.pow(2.0, Math.max(0, attempt)));
    double jittered = base * (1.0 - jitter * random);
    long d = (long) Math.floor(jittered);
    return Math.max(minMs, Math.min(maxMs, d));
  }
}
