package dev.drover.sdk;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A rate limit as the server has it, with its usage in the current window.
 *
 * <pre>{@code
 * RateLimitInfo l = client.getRateLimit("stripe");
 * System.out.println(l.name() + ": " + l.buckets().get(0).used() + "/" + l.capacity() + " per " + l.window());
 * }</pre>
 *
 * @param name the limit's name
 * @param capacity units per window
 * @param window the window length (windows are aligned to the epoch, on the server's database clock)
 * @param createdAt creation time
 * @param updatedAt last change of capacity or window
 * @param windowStart start of the current window
 * @param activeKeys keys with units used in the current window (the global bucket counts as one)
 * @param pausedKeys keys paused now
 * @param buckets the global bucket first, then the busiest keys and the paused ones ({@link
 *     DroverClient#getRateLimit}); only the global bucket from {@link DroverClient#listRateLimits}
 */
public record RateLimitInfo(
    String name,
    int capacity,
    Duration window,
    Instant createdAt,
    Instant updatedAt,
    Instant windowStart,
    int activeKeys,
    int pausedKeys,
    List<RateLimitBucket> buckets) {

  /** Copies the buckets so the record stays immutable. */
  public RateLimitInfo {
    buckets = buckets == null ? List.of() : List.copyOf(buckets);
  }
}
