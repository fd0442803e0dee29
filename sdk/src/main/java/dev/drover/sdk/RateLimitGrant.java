package dev.drover.sdk;

import java.time.Duration;
import java.time.Instant;

/**
 * Units of a rate limit granted to the current attempt ({@link StepContext#rateLimitGrants()}). The
 * server takes them when it hands the step to a worker, in a fixed window on its database clock;
 * {@link #windowStart()} is that window, which may be an earlier one than the window in which the step
 * actually starts (the step may wait a little for a thread, or its worker may be busy).
 *
 * @param limitName the limit
 * @param key the bucket key; {@code ""} for the limit's global bucket
 * @param units units taken
 * @param windowStart start of the window the units were counted in (database clock)
 * @param window the limit's window length
 */
public record RateLimitGrant(String limitName, String key, int units, Instant windowStart, Duration window) {}
