package dev.drover.server.engine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The decisions of the rate limiter, with no I/O: which of a batch of claimed tasks may go now, and
 * until when the others wait. {@link RateLimits} applies them in the claim transaction with the
 * buckets' rows locked, so several dispatchers and replicas never decide on stale counts.
 *
 * <p>Windows are fixed and aligned to the epoch on the database clock. No units are handed out in the
 * last fifth of a window (at most {@link #MAX_GUARD_MS}): a step handed out then could reach its worker,
 * and make its call, in the next window, on top of that window's full capacity. The guard keeps
 * "at most capacity per window" true where it matters, at the upstream, as long as a step starts
 * within the guard after its units were taken (a few milliseconds on a healthy system; up to 165 ms was
 * measured with 2 replicas, 4 worker processes and the database sharing 2 busy cores). It costs no
 * throughput: when work is waiting, each window's capacity is taken in its first milliseconds, and work
 * that arrives during the guard goes at the start of the next window (up to 200 ms later) without
 * displacing anything. The alternative, charging late units to both windows, would instead cap
 * evenly spread demand at 80% of the limit.
 */
final class RateLimitPolicy {
    static final long MAX_GUARD_MS = 200;
    /** How soon a step naming a missing limit is looked at again. */
    static final long MISSING_RETRY_MS = 1_000;

    private RateLimitPolicy() {}

    /** One bucket of one limit: "" is the limit's global bucket. */
    record BucketId(String limit, String key) implements Comparable<BucketId> {
        @Override
        public int compareTo(BucketId o) {
            int c = limit.compareTo(o.limit);
            return c != 0 ? c : key.compareTo(o.key);
        }
    }

    /** Units of one bucket a task needs. */
    record Use(BucketId bucket, int units) {}

    /**
     * A bucket as locked: its limit ({@code capacity} 0 = no such limit), the window and units it was
     * last written with, and its pause end (ms; 0 = none).
     */
    record Bucket(int capacity, long limitWindowMs, long windowStart, long windowMs, int used, long pausedUntilMs) {
        static final Bucket MISSING = new Bucket(0, 0, 0, 0, 0, 0);
    }

    enum Why { MISSING_LIMIT, PAUSED, FULL, TOO_BIG }

    /** A task's fate: {@code retryAtMs} 0 = it goes now; else it waits until then, held back by {@code limit}. */
    record Decision(long retryAtMs, String limit, Why why, boolean onlyGlobal) {
        static final Decision GO = new Decision(0, null, null, false);

        boolean go() {
            return retryAtMs == 0;
        }
    }

    /** New state of a bucket that units were taken from. */
    record Write(BucketId bucket, long windowStart, long windowMs, int used) {}

    record Outcome(List<Decision> decisions, List<Write> writes) {}

    static long guardMs(long windowMs) {
        return Math.min(MAX_GUARD_MS, windowMs / 5);
    }

    static long windowStart(long nowMs, long windowMs) {
        return nowMs - Math.floorMod(nowMs, windowMs);
    }

    /**
     * Units a bucket has used in the window starting at {@code start}: what it last wrote, if that
     * window overlaps this one (the same window, or, just after the limit's window was changed, the old
     * window still partly current: its units count in the first new window rather than being forgotten).
     */
    static int usedIn(Bucket b, long start, long windowMs) {
        if (b.windowMs() <= 0) return 0;
        boolean overlaps = b.windowStart() < start + windowMs && b.windowStart() + b.windowMs() > start;
        return overlaps ? b.used() : 0;
    }

    /**
     * Decides the tasks in order (older first): a task goes when every bucket it uses has room for its
     * units, and then takes them all; otherwise it takes nothing and waits until the latest of the
     * instants at which its blocking buckets could have room again.
     */
    static Outcome decide(List<List<Use>> tasks, Map<BucketId, Bucket> buckets, long nowMs) {
        Map<BucketId, int[]> used = new HashMap<>();
        Map<BucketId, Long> starts = new HashMap<>();
        for (var e : buckets.entrySet()) {
            Bucket b = e.getValue();
            if (b.capacity() <= 0) continue;
            long start = windowStart(nowMs, b.limitWindowMs());
            starts.put(e.getKey(), start);
            used.put(e.getKey(), new int[] {usedIn(b, start, b.limitWindowMs())});
        }
        List<Decision> out = new ArrayList<>(tasks.size());
        Map<BucketId, Boolean> taken = new HashMap<>();
        // A bucket written under another window length is rewritten in the current window, units carried
        // over: else its old (say monthly) window would overlap, and block, every new (say 1 s) window.
        for (var e : buckets.entrySet()) {
            Bucket b = e.getValue();
            if (b.capacity() > 0 && b.windowMs() > 0 && b.windowMs() != b.limitWindowMs()) taken.put(e.getKey(), true);
        }
        for (List<Use> uses : tasks) {
            long retry = 0;
            String limit = null;
            Why why = null;
            boolean onlyGlobal = true;
            for (Use u : uses) {
                Bucket b = buckets.getOrDefault(u.bucket(), Bucket.MISSING);
                long at;
                Why w;
                if (b.capacity() <= 0) {
                    at = nowMs + MISSING_RETRY_MS;
                    w = Why.MISSING_LIMIT;
                } else if (b.pausedUntilMs() > nowMs) {
                    at = b.pausedUntilMs();
                    w = Why.PAUSED;
                } else {
                    long start = starts.get(u.bucket());
                    long end = start + b.limitWindowMs();
                    boolean closing = nowMs >= end - guardMs(b.limitWindowMs());
                    if (u.units() > b.capacity()) {
                        at = end;
                        w = Why.TOO_BIG;
                    } else if (closing || used.get(u.bucket())[0] + u.units() > b.capacity()) {
                        at = end;
                        w = Why.FULL;
                    } else {
                        continue;
                    }
                }
                if (!u.bucket().key().isEmpty()) onlyGlobal = false;
                if (at > retry) {
                    retry = at;
                    limit = u.bucket().limit();
                    why = w;
                }
            }
            if (retry == 0) {
                for (Use u : uses) {
                    used.get(u.bucket())[0] += u.units();
                    taken.put(u.bucket(), true);
                }
                out.add(Decision.GO);
            } else {
                out.add(new Decision(retry, limit, why, onlyGlobal));
            }
        }
        List<Write> writes = new ArrayList<>(taken.size());
        for (BucketId id : taken.keySet()) {
            writes.add(new Write(id, starts.get(id), buckets.get(id).limitWindowMs(), used.get(id)[0]));
        }
        return new Outcome(out, writes);
    }
}
