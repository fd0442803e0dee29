package dev.drover.server.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.server.engine.RateLimitPolicy.Bucket;
import dev.drover.server.engine.RateLimitPolicy.BucketId;
import dev.drover.server.engine.RateLimitPolicy.Decision;
import dev.drover.server.engine.RateLimitPolicy.Outcome;
import dev.drover.server.engine.RateLimitPolicy.Use;
import dev.drover.server.engine.RateLimitPolicy.Write;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The rate limiter's decisions on random streams of claim batches over time (several buckets, global
 * and per key, tasks drawing from one or two of them, pauses, a missing limit): no bucket ever hands
 * out more than its capacity in a window, nothing is handed out in a window's closing guard or during
 * a pause, a task is held back only when one of its buckets really has no room, and every held task
 * is told a retry instant in the future.
 */
class RateLimitPolicyProperties {

    @Property(tries = 300)
    void no_window_of_any_bucket_ever_gets_more_than_its_capacity(@ForAll long seed) {
        Random r = new Random(seed);
        int nBuckets = 1 + r.nextInt(4);
        List<BucketId> ids = new ArrayList<>();
        Map<BucketId, Bucket> state = new HashMap<>();
        long[] windows = {100, 250, 1000, 60_000};
        for (int i = 0; i < nBuckets; i++) {
            BucketId id = new BucketId("limit" + r.nextInt(2), i == 0 ? "" : "k" + i);
            if (state.containsKey(id)) continue;
            ids.add(id);
            boolean missing = r.nextInt(10) == 0;
            state.put(id, missing ? Bucket.MISSING
                    : new Bucket(1 + r.nextInt(10), windows[r.nextInt(windows.length)], 0, 0, 0, 0));
        }
        Map<String, Integer> handedOut = new HashMap<>(); // bucket + window index -> units
        long now = 1_700_000_000_000L + r.nextInt(1_000);
        for (int step = 0; step < 200; step++) {
            now += r.nextInt(80);
            if (r.nextInt(40) == 0) { // pause a bucket for a while
                BucketId id = ids.get(r.nextInt(ids.size()));
                Bucket b = state.get(id);
                if (b.capacity() > 0) {
                    state.put(id, new Bucket(b.capacity(), b.limitWindowMs(), b.windowStart(), b.windowMs(), b.used(),
                            now + r.nextInt(500)));
                }
            }
            List<List<Use>> tasks = new ArrayList<>();
            int n = 1 + r.nextInt(6);
            for (int t = 0; t < n; t++) {
                List<Use> uses = new ArrayList<>();
                BucketId first = ids.get(r.nextInt(ids.size()));
                uses.add(new Use(first, 1 + r.nextInt(3)));
                BucketId second = ids.get(r.nextInt(ids.size()));
                if (r.nextBoolean() && !second.equals(first)) uses.add(new Use(second, 1 + r.nextInt(2)));
                tasks.add(uses);
            }
            Map<BucketId, Bucket> before = new HashMap<>(state);
            Map<BucketId, Integer> usedBefore = new HashMap<>();
            for (BucketId id : ids) {
                Bucket b = before.get(id);
                if (b.capacity() > 0) {
                    usedBefore.put(id, RateLimitPolicy.usedIn(b, RateLimitPolicy.windowStart(now, b.limitWindowMs()),
                            b.limitWindowMs()));
                }
            }
            Outcome o = RateLimitPolicy.decide(tasks, before, now);
            assertThat(o.decisions()).hasSize(tasks.size());
            Map<BucketId, Integer> takenNow = new HashMap<>();
            for (int t = 0; t < tasks.size(); t++) {
                Decision d = o.decisions().get(t);
                if (d.go()) {
                    for (Use u : tasks.get(t)) {
                        Bucket b = before.get(u.bucket());
                        assertThat(b.capacity()).as("a missing limit hands out nothing").isPositive();
                        assertThat(b.pausedUntilMs()).as("a paused key hands out nothing").isLessThanOrEqualTo(now);
                        long start = RateLimitPolicy.windowStart(now, b.limitWindowMs());
                        assertThat(now).as("nothing in the closing guard")
                                .isLessThan(start + b.limitWindowMs() - RateLimitPolicy.guardMs(b.limitWindowMs()));
                        String w = u.bucket() + "@" + start / b.limitWindowMs();
                        int total = handedOut.merge(w, u.units(), Integer::sum);
                        assertThat(total).as("units of %s", w).isLessThanOrEqualTo(b.capacity());
                        takenNow.merge(u.bucket(), u.units(), Integer::sum);
                    }
                } else {
                    assertThat(d.retryAtMs()).as("a held task is told when to come back").isGreaterThan(now);
                    // Held back only for a reason: some bucket has no room for it given what went before it.
                    boolean blocked = false;
                    for (Use u : tasks.get(t)) {
                        Bucket b = before.get(u.bucket());
                        if (b.capacity() <= 0 || b.pausedUntilMs() > now) {
                            blocked = true;
                            continue;
                        }
                        long start = RateLimitPolicy.windowStart(now, b.limitWindowMs());
                        boolean closing = now >= start + b.limitWindowMs() - RateLimitPolicy.guardMs(b.limitWindowMs());
                        int used = usedBefore.get(u.bucket()) + takenNow.getOrDefault(u.bucket(), 0);
                        if (closing || used + u.units() > b.capacity()) blocked = true;
                    }
                    assertThat(blocked).as("task %d of step %d was held back with room in every bucket", t, step).isTrue();
                }
            }
            for (Write w : o.writes()) {
                Bucket b = state.get(w.bucket());
                state.put(w.bucket(), new Bucket(b.capacity(), b.limitWindowMs(), w.windowStart(), w.windowMs(), w.used(),
                        b.pausedUntilMs()));
            }
        }
    }

    @Property(tries = 100)
    void a_lone_task_with_room_always_goes(@ForAll long seed) {
        Random r = new Random(seed);
        long window = 1000;
        int capacity = 1 + r.nextInt(20);
        // Anywhere in the second but its closing guard.
        long now = 1_700_000_000_000L + r.nextInt((int) (window - RateLimitPolicy.guardMs(window)));
        BucketId id = new BucketId("l", "");
        int used = r.nextInt(capacity);
        Bucket b = new Bucket(capacity, window, RateLimitPolicy.windowStart(now, window), window, used, 0);
        int units = 1 + r.nextInt(capacity - used);
        Outcome o = RateLimitPolicy.decide(List.of(List.of(new Use(id, units))), Map.of(id, b), now);
        assertThat(o.decisions().get(0).go()).isTrue();
        assertThat(o.writes()).containsExactly(new Write(id, RateLimitPolicy.windowStart(now, window), window, used + units));
    }
}
