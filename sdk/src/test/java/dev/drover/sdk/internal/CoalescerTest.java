package dev.drover.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.sdk.DroverException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * The coalescer's promises, with plain functions standing in for the two RPCs (the end-to-end test
 * against a real server is ConcurrentTriggersTest in the server module): every call gets exactly its
 * own answer, nothing is stranded in the queue, concurrent calls really share batches, and one bad
 * request fails only its own caller.
 */
class CoalescerTest {
    private static final int THREADS = 32;
    private static final int CALLS_PER_THREAD = 300;

    private static void pause() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @RepeatedTest(3)
    void everyCallGetsItsOwnAnswerAndCallsShareBatches() throws Exception {
        List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        AtomicInteger singles = new AtomicInteger();
        Map<Integer, Integer> seen = new ConcurrentHashMap<>();
        Coalescer<Integer, String> c = new Coalescer<>(
                q -> {
                    singles.incrementAndGet();
                    seen.merge(q, 1, Integer::sum);
                    pause();
                    return "r" + q;
                },
                qs -> {
                    batchSizes.add(qs.size());
                    for (Integer q : qs) seen.merge(q, 1, Integer::sum);
                    pause(); // a round trip: while it lasts, the other callers queue up
                    return qs.stream().map(q -> "r" + q).toList();
                },
                r -> null, q -> 10, 100, 1_000_000, 2);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<String>>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int base = t * CALLS_PER_THREAD;
                futures.add(pool.submit(() -> {
                    go.await();
                    List<String> got = new ArrayList<>();
                    for (int i = 0; i < CALLS_PER_THREAD; i++) {
                        String r = c.call(base + i);
                        assertThat(r).isEqualTo("r" + (base + i));
                        got.add(r);
                    }
                    return got;
                }));
            }
            go.countDown();
            int answered = 0;
            for (Future<List<String>> f : futures) answered += f.get().size();
            assertThat(answered).isEqualTo(THREADS * CALLS_PER_THREAD);
        } finally {
            pool.shutdownNow();
        }
        assertThat(seen).hasSize(THREADS * CALLS_PER_THREAD);
        assertThat(seen.values()).allMatch(n -> n == 1); // each request sent exactly once
        assertThat(batchSizes).allMatch(n -> n <= 100);   // never more than maxItems per batch
        int inBatches = batchSizes.stream().mapToInt(Integer::intValue).sum();
        assertThat(inBatches + singles.get()).isEqualTo(THREADS * CALLS_PER_THREAD);
        // 32 callers, 2 in flight: most calls must have travelled in batches.
        assertThat(inBatches).isGreaterThan(THREADS * CALLS_PER_THREAD / 2);
    }

    @RepeatedTest(3)
    void aCallerSendsOnlyUntilItsOwnCallIsAnswered() throws Exception {
        // A caller that became a sender used to drain the queue for as long as others kept filling it:
        // in the concurrent-triggers benchmark one call took a second while p99 was 50 ms.
        java.util.Set<Integer> answered = ConcurrentHashMap.newKeySet();
        Map<Thread, Integer> current = new ConcurrentHashMap<>();
        AtomicInteger batches = new AtomicInteger();
        AtomicInteger afterOwnAnswer = new AtomicInteger();
        Coalescer<Integer, String> c = new Coalescer<>(
                q -> {
                    pause();
                    answered.add(q);
                    return "r" + q;
                },
                qs -> {
                    batches.incrementAndGet();
                    Integer own = current.get(Thread.currentThread());
                    if (own != null && answered.contains(own)) afterOwnAnswer.incrementAndGet();
                    pause();
                    answered.addAll(qs);
                    return qs.stream().map(q -> "r" + q).toList();
                },
                r -> null, q -> 10, 100, 1_000_000, 2);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int base = t * CALLS_PER_THREAD;
                futures.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < CALLS_PER_THREAD; i++) {
                        current.put(Thread.currentThread(), base + i);
                        assertThat(c.call(base + i)).isEqualTo("r" + (base + i));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : futures) f.get();
        } finally {
            pool.shutdownNow();
        }
        assertThat(answered).hasSize(THREADS * CALLS_PER_THREAD);
        assertThat(batches.get()).isGreaterThan(50);
        // Only the race of another sender answering it between the check and the send remains.
        assertThat(afterOwnAnswer.get()).as("batches sent by a caller already answered, of %s", batches.get())
                .isLessThanOrEqualTo(batches.get() / 20);
    }

    @Test
    void aLoneCallGoesOutAloneAndAtOnce() {
        AtomicInteger batches = new AtomicInteger();
        Coalescer<Integer, String> c = new Coalescer<>(q -> "r" + q, qs -> {
            batches.incrementAndGet();
            return qs.stream().map(q -> "r" + q).toList();
        }, r -> null, q -> 10, 100, 1_000_000, 4);
        for (int i = 0; i < 100; i++) assertThat(c.call(i)).isEqualTo("r" + i);
        assertThat(batches).hasValue(0);
    }

    @Test
    void theByteBudgetSplitsBatches() throws Exception {
        List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        Coalescer<Integer, Integer> c = new Coalescer<>(q -> q, qs -> {
            batchSizes.add(qs.size());
            pause();
            return qs;
        }, r -> null, q -> 400, 1_000, 1_000, 1);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Integer>> fs = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                int q = i;
                fs.add(pool.submit(() -> c.call(q)));
            }
            for (int i = 0; i < fs.size(); i++) assertThat(fs.get(i).get()).isEqualTo(i);
        } finally {
            pool.shutdownNow();
        }
        assertThat(batchSizes).allMatch(n -> n <= 2); // 2 × 400 bytes fit in 1,000, 3 do not
    }

    @Test
    void aBadRequestFailsOnlyItsOwnCaller() throws Exception {
        Coalescer<Integer, String> c = new Coalescer<>(
                q -> {
                    if (q % 10 == 7) throw new DroverException(DroverException.Code.INVALID_ARGUMENT, "input_json: bad " + q);
                    return "r" + q;
                },
                qs -> {
                    pause();
                    for (int i = 0; i < qs.size(); i++) {
                        if (qs.get(i) % 10 == 7) {
                            throw new DroverException(DroverException.Code.INVALID_ARGUMENT, "runs[" + i + "].input_json: bad");
                        }
                    }
                    return qs.stream().map(q -> "r" + q).toList();
                },
                r -> null, q -> 10, 100, 1_000_000, 2);
        List<String> rs = callFromManyThreads(c, 500);
        for (int i = 0; i < rs.size(); i++) {
            if (i % 10 == 7) assertThat(rs.get(i)).startsWith("error INVALID_ARGUMENT").contains("input_json: bad " + i);
            else assertThat(rs.get(i)).isEqualTo("r" + i);
        }
    }

    @RepeatedTest(3)
    void itemsAnsweredOneByOneFailAloneAndUnstoredItemsAreSentAgainAlone() throws Exception {
        // A batch of independent items: the server answers every item, some with their own error.
        // Bad input (q % 10 == 7) fails only its caller, without a second call; an item the server
        // could not store (q % 10 == 3, UNAVAILABLE) is sent again as a single call, which succeeds.
        AtomicInteger singles = new AtomicInteger();
        List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        java.util.Set<Integer> batched = ConcurrentHashMap.newKeySet();
        Coalescer<Integer, String> c = new Coalescer<>(
                q -> {
                    singles.incrementAndGet();
                    pause(); // a round trip: while it lasts, the other callers queue up and batches form
                    if (q % 10 == 7) {
                        assertThat(batched).doesNotContain(q); // its batch answer was final
                        throw new DroverException(DroverException.Code.INVALID_ARGUMENT, "input_json: bad " + q);
                    }
                    return "r" + q;
                },
                qs -> {
                    batchSizes.add(qs.size());
                    batched.addAll(qs);
                    pause();
                    return qs.stream().map(q -> q % 10 == 7 ? "!INVALID_ARGUMENT input_json: bad " + q
                            : q % 10 == 3 ? "!UNAVAILABLE database unavailable" : "r" + q).toList();
                },
                r -> r.startsWith("!") ? new DroverException(DroverException.Code.valueOf(r.substring(1, r.indexOf(' '))),
                        r.substring(r.indexOf(' ') + 1)) : null,
                q -> 10, 100, 1_000_000, 2);
        List<String> rs = callFromManyThreads(c, 500);
        for (int i = 0; i < rs.size(); i++) {
            if (i % 10 == 7) assertThat(rs.get(i)).isEqualTo("error INVALID_ARGUMENT input_json: bad " + i);
            else assertThat(rs.get(i)).isEqualTo("r" + i);
        }
        assertThat(batchSizes).anyMatch(n -> n > 1);
        // Singles: the calls sent alone (no batch formed) plus one resend per unstored item of a batch.
        long resent = batched.stream().filter(q -> q % 10 == 3).count();
        assertThat(singles.get()).isEqualTo(500 - batched.size() + (int) resent);
    }

    @Test
    void anUnreachableServerFailsTheWholeBatchWithoutRetryingEachItem() throws Exception {
        AtomicInteger singles = new AtomicInteger();
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Coalescer<Integer, String> c = new Coalescer<>(
                q -> {
                    if (singles.incrementAndGet() == 1) { // the first caller's call: hold it so others queue
                        inFlight.countDown();
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return "r" + q;
                    }
                    throw new AssertionError("no single retries after an UNAVAILABLE batch");
                },
                qs -> {
                    throw new DroverException(DroverException.Code.UNAVAILABLE, "server unavailable");
                },
                r -> null, q -> 10, 100, 1_000_000, 1);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            Future<String> first = pool.submit(() -> c.call(0));
            inFlight.await();
            List<Future<String>> rest = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                int q = i;
                rest.add(pool.submit(() -> c.call(q)));
            }
            Thread.sleep(100); // let the five queue behind the held call
            release.countDown();
            assertThat(first.get()).isEqualTo("r0");
            for (Future<String> f : rest) {
                assertThatThrownBy(f::get).hasCauseInstanceOf(DroverException.class).hasMessageContaining("unavailable");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Calls 0..n-1 from 16 threads; each answer, or "error CODE message" for a DroverException. */
    private static List<String> callFromManyThreads(Coalescer<Integer, String> c, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<String>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int q = i;
                fs.add(pool.submit(() -> {
                    try {
                        return c.call(q);
                    } catch (DroverException e) {
                        return "error " + e.code() + " " + e.getMessage();
                    }
                }));
            }
            List<String> out = new ArrayList<>();
            for (Future<String> f : fs) out.add(f.get());
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
