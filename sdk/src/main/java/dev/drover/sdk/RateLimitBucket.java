package dev.drover.sdk;

import java.time.Instant;

/**
 * One bucket of a rate limit: the global one (key {@code ""}) or one key of a dynamic limit.
 *
 * <pre>{@code
 * RateLimitBucket b = client.pauseRateLimitKey("stripe-per-customer", "c-42", Duration.ofSeconds(30));
 * System.out.println("c-42 paused until " + b.pausedUntil());
 * }</pre>
 *
 * @param limitName the limit
 * @param key the key; {@code ""} for the global bucket
 * @param used units used in the current window
 * @param remaining units left in the current window
 * @param pausedUntil end of the key's pause; {@code null} when not paused
 * @param pauseReason why it was paused, if given
 */
public record RateLimitBucket(
    String limitName, String key, int used, int remaining, Instant pausedUntil, String pauseReason) {}
