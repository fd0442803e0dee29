package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.Step;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many threads of one application trigger single runs at once, as a web app's request threads do.
 * The client sends them together in batch calls; to the callers nothing may change: each gets its
 * own run, an invalid trigger fails only its own caller (with the single call's message), every
 * accepted run runs exactly once.
 */
class ConcurrentTriggersTest {
    static final Map<Integer, AtomicInteger> executions = new ConcurrentHashMap<>();

    @Workflow(name = "concurrent-triggers-wf", version = "1")
    public static class Counted {
        @Step(name = "count")
        public int count(Map<String, Integer> in) {
            executions.computeIfAbsent(in.get("i"), k -> new AtomicInteger()).incrementAndGet();
            return in.get("i");
        }
    }

    @Test
    void concurrent_single_triggers_each_get_their_own_run_and_a_bad_one_fails_alone() throws Exception {
        int threads = 32, perThread = 100;
        try (DroverClient client = TestServer.client()) {
            Worker worker = client.newWorker("concurrent-triggers").register(new Counted()).slots(100).start();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            Set<String> runIds = ConcurrentHashMap.newKeySet();
            List<RunHandle> handles = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicInteger rejected = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int k = 0; k < perThread; k++) {
                        int i = base + k;
                        if (i % 25 == 24) {
                            // Invalid JSON: refused by the server, for this caller only.
                            try {
                                client.runJson("concurrent-triggers-wf", "{\"i\": " + i, RunOptions.defaults());
                                throw new AssertionError("invalid input was accepted for " + i);
                            } catch (DroverException e) {
                                assertThat(e.code()).isEqualTo(DroverException.Code.INVALID_ARGUMENT);
                                assertThat(e.getMessage()).contains("input_json");
                                rejected.incrementAndGet();
                            }
                        } else {
                            RunHandle h = client.runJson("concurrent-triggers-wf", "{\"i\": " + i + "}", RunOptions.defaults());
                            assertThat(h.created()).isTrue();
                            assertThat(runIds.add(h.runId())).as("run id %s handed out twice", h.runId()).isTrue();
                            handles.add(h);
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) f.get(120, TimeUnit.SECONDS);
            pool.shutdown();

            int valid = threads * perThread - rejected.get();
            assertThat(rejected.get()).isEqualTo(threads * perThread / 25);
            assertThat(runIds).hasSize(valid);
            for (RunHandle h : handles) assertThat(h.await(Duration.ofSeconds(60)).status().name()).isEqualTo("SUCCEEDED");
            assertThat(executions).hasSize(valid);
            assertThat(executions.values()).allMatch(n -> n.get() == 1);
            worker.close(Duration.ofSeconds(5));
        }
    }

    /**
     * The server's trigger writers take turns, so that each writes a bigger group; a writer whose
     * transaction is stuck (here: its run's idempotency key is being inserted by a transaction that has
     * not ended) must not hold back everyone else's triggers.
     */
    @Workflow(name = "stuck-writer-wf", version = "1")
    public static class Echo {
        @Step(name = "echo")
        public int echo(Map<String, Integer> in) {
            return in.get("i");
        }
    }

    @Test
    void a_trigger_stuck_on_a_lock_does_not_hold_back_the_others() throws Exception {
        String key = "stuck-" + java.util.UUID.randomUUID();
        try (DroverClient client = TestServer.client();
             Worker worker = client.newWorker("stuck-writer").register(new Echo()).slots(50).start();
             java.sql.Connection holder = TestServer.shared().database().openConnection()) {
            holder.setAutoCommit(false);
            try (java.sql.PreparedStatement ps = holder.prepareStatement("""
                    INSERT INTO drover_run (id, tenant_id, workflow_name, workflow_version, status, input, pending_steps,
                                            idempotency_key)
                    VALUES (?, 'default', 'stuck-writer-wf', '1', 'queued', '{}', 1, ?)""")) {
                ps.setObject(1, java.util.UUID.randomUUID());
                ps.setString(2, key);
                ps.executeUpdate();
            }
            ExecutorService stuckCaller = Executors.newSingleThreadExecutor();
            Future<RunHandle> stuck = stuckCaller.submit(() ->
                    client.runJson("stuck-writer-wf", "{\"i\": -1}", RunOptions.defaults().withIdempotencyKey(key)));
            // Until the holder ends, that trigger's writer waits on the key's index entry.
            Thread.sleep(300);
            assertThat(stuck.isDone()).as("the keyed trigger waits for the holder's transaction").isFalse();

            // Other callers' triggers are written beside it: all of them while the holder is still open
            // (were they waiting for the stuck writer's turn, none would return before the rollback below).
            ExecutorService others = Executors.newSingleThreadExecutor();
            Future<List<RunHandle>> written = others.submit(() -> {
                List<RunHandle> hs = new ArrayList<>();
                for (int i = 0; i < 50; i++) hs.add(client.runJson("stuck-writer-wf", "{\"i\": " + i + "}", RunOptions.defaults()));
                return hs;
            });
            List<RunHandle> hs = written.get(30, TimeUnit.SECONDS);
            assertThat(hs).allMatch(RunHandle::created);
            assertThat(stuck.isDone()).as("the keyed trigger still waits").isFalse();
            for (RunHandle o : hs) assertThat(o.await(Duration.ofSeconds(30)).status().name()).isEqualTo("SUCCEEDED");
            others.shutdown();

            holder.rollback();
            RunHandle h = stuck.get(30, TimeUnit.SECONDS);
            assertThat(h.created()).as("the key was free again once the holder rolled back").isTrue();
            assertThat(h.await(Duration.ofSeconds(30)).status().name()).isEqualTo("SUCCEEDED");
            stuckCaller.shutdown();
        }
    }
}
