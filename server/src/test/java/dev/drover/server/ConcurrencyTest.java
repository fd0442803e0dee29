package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.sdk.Concurrency;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunRequest;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Concurrency groups end to end: limits per key, the four strategies, and fairness under a backlog. */
class ConcurrencyTest {
    static DroverClient client;
    static Worker worker;

    static final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    static final Map<String, AtomicInteger> maxSeen = new ConcurrentHashMap<>();

    static void enter(String key) {
        int now = inFlight.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        maxSeen.computeIfAbsent(key, k -> new AtomicInteger()).accumulateAndGet(now, Math::max);
    }

    static void leave(String key) {
        inFlight.get(key).decrementAndGet();
    }

    @Workflow(name = "conc-limited", version = "1")
    @Concurrency(key = "input.customer", maxRunning = 2)
    public static class Limited {
        @Step
        public String work(Map<String, String> in) throws InterruptedException {
            String key = "limited:" + in.get("customer");
            enter(key);
            try {
                Thread.sleep(30);
                return in.get("customer");
            } finally {
                leave(key);
            }
        }
    }

    @Workflow(name = "conc-step-level", version = "1")
    public static class StepLevel {
        @Step
        public int prepare() {
            return 1;
        }

        @Step(parents = "prepare")
        @Concurrency(maxRunning = 1, strategy = Concurrency.Strategy.QUEUE)
        public int exclusive() throws InterruptedException {
            enter("step-level");
            try {
                Thread.sleep(20);
                return 2;
            } finally {
                leave("step-level");
            }
        }
    }

    static final Map<String, CountDownLatch> releases = new ConcurrentHashMap<>();

    @Workflow(name = "conc-replace", version = "1")
    @Concurrency(key = "input.doc", maxRunning = 1, strategy = Concurrency.Strategy.CANCEL_IN_PROGRESS)
    public static class Replace {
        @Step(executionTimeout = "60s")
        public String render(Map<String, String> in, StepContext ctx) throws InterruptedException {
            releases.computeIfAbsent(in.get("tag"), k -> new CountDownLatch(1)).await(30, TimeUnit.SECONDS);
            return in.get("tag");
        }
    }

    @Workflow(name = "conc-drop-newest", version = "1")
    @Concurrency(key = "input.doc", maxRunning = 1, strategy = Concurrency.Strategy.CANCEL_NEWEST)
    public static class DropNewest {
        @Step(executionTimeout = "60s")
        public String render(Map<String, String> in) throws InterruptedException {
            releases.computeIfAbsent(in.get("tag"), k -> new CountDownLatch(1)).await(30, TimeUnit.SECONDS);
            return in.get("tag");
        }
    }

    @Test
    void noKeyEverRunsMoreThanItsLimitAndEveryRunCompletes() {
        List<RunRequest> reqs = new ArrayList<>();
        for (int i = 0; i < 30; i++) reqs.add(RunRequest.of("conc-limited", Map.of("customer", "c" + (i % 3))));
        List<RunHandle> handles = client.runMany(reqs);
        for (RunHandle h : handles) assertThat(h.await(Duration.ofSeconds(30)).status()).isEqualTo(RunStatus.SUCCEEDED);
        for (int c = 0; c < 3; c++) assertThat(maxSeen.get("limited:c" + c).get()).isBetween(1, 2);
        // With 8 worker slots and 3 keys of 2, the keys did run side by side.
        assertThat(maxSeen.get("limited:c0").get()).isEqualTo(2);
    }

    @Test
    void aStepLevelGroupSerialisesThatStepAcrossRuns() {
        List<RunRequest> reqs = new ArrayList<>();
        for (int i = 0; i < 10; i++) reqs.add(RunRequest.of("conc-step-level", Map.of()));
        for (RunHandle h : client.runMany(reqs)) assertThat(h.await(Duration.ofSeconds(30)).status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(maxSeen.get("step-level").get()).isEqualTo(1);
    }

    @Test
    void cancelInProgressReplacesTheRunningRunOfTheKey() throws Exception {
        RunHandle first = client.run("conc-replace", Map.of("doc", "d1", "tag", "r-first"));
        awaitStatus(first, RunStatus.RUNNING);
        RunHandle second = client.run("conc-replace", Map.of("doc", "d1", "tag", "r-second"));
        assertThat(first.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(first.status().error()).contains("cancel_in_progress");
        releases.computeIfAbsent("r-second", k -> new CountDownLatch(1)).countDown();
        assertThat(second.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
        // Another key is not affected.
        RunHandle other = client.run("conc-replace", Map.of("doc", "d2", "tag", "r-other"));
        releases.computeIfAbsent("r-other", k -> new CountDownLatch(1)).countDown();
        assertThat(other.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
    }

    @Test
    void cancelNewestDropsARunThatFindsItsKeyFull() throws Exception {
        RunHandle first = client.run("conc-drop-newest", Map.of("doc", "d1", "tag", "n-first"));
        awaitStatus(first, RunStatus.RUNNING);
        RunHandle second = client.run("conc-drop-newest", Map.of("doc", "d1", "tag", "n-second"));
        RunInfo dropped = second.await(Duration.ofSeconds(5));
        assertThat(dropped.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(dropped.error()).contains("cancel_newest");
        releases.computeIfAbsent("n-first", k -> new CountDownLatch(1)).countDown();
        assertThat(first.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
        // Once the key is free again, a new run goes.
        RunHandle third = client.run("conc-drop-newest", Map.of("doc", "d1", "tag", "n-third"));
        releases.computeIfAbsent("n-third", k -> new CountDownLatch(1)).countDown();
        assertThat(third.await(Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
    }

    // ---- fairness under a backlog -----------------------------------------------------------------

    static final AtomicInteger aStarted = new AtomicInteger();
    static final Map<String, Long> bStartedAtA = new ConcurrentHashMap<>();
    static final Map<String, Long> bStartNanos = new ConcurrentHashMap<>();

    @Workflow(name = "conc-fair", version = "1")
    @Concurrency(key = "input.tenant", maxRunning = 8)
    public static class Fair {
        @Step
        public void work(Map<String, String> in) {
            if ("A".equals(in.get("tenant"))) {
                aStarted.incrementAndGet();
            } else {
                bStartedAtA.put(in.get("id"), (long) aStarted.get());
                bStartNanos.put(in.get("id"), System.nanoTime());
            }
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(300)
    void aSmallKeyIsNotStuckBehindABigBacklog() throws InterruptedException {
        // Its own server: the 50,000-run backlog must not slow the other tests down.
        java.nio.file.Path dir = TestServer.tempDir("drover-fairness-");
        try (DroverServer server = TestServer.start(dir); DroverClient c = TestServer.client(server.grpcPort())) {
            long t0 = System.nanoTime();
            for (int batch = 0; batch < 5; batch++) {
                List<RunRequest> reqs = new ArrayList<>(10_000);
                for (int i = 0; i < 10_000; i++) reqs.add(RunRequest.of("conc-fair", Map.of("tenant", "A", "id", "a" + (batch * 10_000 + i))));
                // The workflow is registered by the worker below; register it first through a short-lived worker.
                if (batch == 0) c.newWorker("fair-register").register(new Fair()).slots(1).start().close();
                c.runMany(reqs);
            }
            double queueSeconds = (System.nanoTime() - t0) / 1e9;
            try (Worker w = c.newWorker("fair-worker").register(new Fair()).slots(16).start()) {
                // Let A's backlog get going, then B arrives.
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (aStarted.get() < 200) {
                    assertThat(System.nanoTime()).as("A's backlog starts draining").isLessThan(until);
                    Thread.sleep(5);
                }
                Map<String, Long> bTriggered = new ConcurrentHashMap<>();
                List<RunHandle> bRuns = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    String id = "b" + i;
                    bTriggered.put(id, System.nanoTime());
                    bRuns.add(c.run("conc-fair", Map.of("tenant", "B", "id", id)));
                }
                for (RunHandle h : bRuns) assertThat(h.await(Duration.ofSeconds(60)).status()).isEqualTo(RunStatus.SUCCEEDED);
                long maxAStarted = bStartedAtA.values().stream().mapToLong(Long::longValue).max().orElseThrow();
                List<Long> waits = new ArrayList<>();
                bStartNanos.forEach((id, t) -> waits.add(Math.max(0, (t - bTriggered.get(id)) / 1_000_000)));
                waits.sort(null);
                System.out.printf("fairness: queued 50,000 runs of key A in %.1f s; B's 50 runs all started by the time"
                                + " %d of A's had started (%.1f%% of A); B wait p50 %d ms, p99 %d ms, max %d ms%n",
                        queueSeconds, maxAStarted, maxAStarted * 100.0 / 50_000, waits.get(waits.size() / 2),
                        waits.get((int) Math.ceil(waits.size() * 0.99) - 1), waits.get(waits.size() - 1));
                assertThat(maxAStarted).isLessThan(5_000); // before A's backlog is 10% drained
            }
        }
    }

    // ---- plumbing ------------------------------------------------------------------------------------

    static void awaitStatus(RunHandle h, RunStatus status) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (h.status().status() == status) return;
            Thread.sleep(20);
        }
        throw new AssertionError(h + " never became " + status);
    }

    @BeforeAll
    static void start() {
        client = TestServer.client();
        worker = client.newWorker("conc-worker").register(new Limited()).register(new StepLevel())
                .register(new Replace()).register(new DropNewest()).slots(8).start();
    }

    @AfterAll
    static void stop() {
        releases.values().forEach(CountDownLatch::countDown);
        worker.close();
        client.close();
    }
}
