package dev.drover.server.engine;

import dev.drover.proto.v1.RetryPolicy;
import java.util.concurrent.ThreadLocalRandom;

/** Delay before the next attempt: exponential, capped, with jitter in [d/2, d] so retries do not stampede. */
public final class Backoff {
    private Backoff() {}

    /** The ceiling for the delay after {@code failedAttempt} (1-based) failed, before jitter. */
    public static long ceilingMs(RetryPolicy p, int failedAttempt) {
        long initial = p.getInitialBackoffMs() > 0 ? p.getInitialBackoffMs() : 1000;
        double mult = p.getBackoffMultiplier() > 0 ? p.getBackoffMultiplier() : 2.0;
        long max = p.getMaxBackoffMs() > 0 ? p.getMaxBackoffMs() : 60_000;
        double d = initial * Math.pow(mult, Math.max(0, failedAttempt - 1));
        return (long) Math.min(Math.max(d, 0), Math.max(max, initial));
    }

    public static long delayMs(RetryPolicy p, int failedAttempt) {
        long ceiling = ceilingMs(p, failedAttempt);
        long half = ceiling / 2;
        return half + (ceiling - half == 0 ? 0 : ThreadLocalRandom.current().nextLong(ceiling - half + 1));
    }
}
