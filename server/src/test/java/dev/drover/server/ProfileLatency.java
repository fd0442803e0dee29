package dev.drover.server;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A developer's harness (not a test): trigger-to-first-line latency at a steady 100/s, or N concurrent callers. */
public final class ProfileLatency {
    static final Map<Integer, Long> startedAt = new ConcurrentHashMap<>();

    @Workflow(name = "lat-noop", version = "1")
    public static class Noop {
        @Step(name = "noop")
        public int noop(Map<String, Integer> in) {
            startedAt.put(in.get("i"), System.nanoTime());
            return 1;
        }
    }

    /** PROF_DAG=1: root, two parallel, join; the latency is then trigger to the join's first line. */
    @Workflow(name = "lat-dag", version = "1")
    public static class Diamond {
        @Step(name = "root")
        public int root(Map<String, Integer> in) {
            return 1;
        }

        @Step(name = "left", parents = "root")
        public int left(StepContext ctx) {
            return 1;
        }

        @Step(name = "right", parents = "root")
        public int right(StepContext ctx) {
            return 1;
        }

        @Step(name = "join", parents = {"left", "right"})
        public int join(Map<String, Integer> in) {
            startedAt.put(in.get("i"), System.nanoTime());
            return 1;
        }
    }

    public static void main(String[] args) throws Exception {
        String wf = System.getenv("PROF_DAG") == null ? "lat-noop" : "lat-dag";
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int callers = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        DroverServer server = TestServer.start(TestServer.tempDir("lat-"));
        try (DroverClient client = TestServer.client(server.grpcPort())) {
            Worker w = client.newWorker("lat").register(new Noop()).register(new Diamond()).slots(500).start();
            for (int i = 0; i < 300; i++) client.run(wf, Map.of("i", -1 - i)); // warm-up
            System.out.println("database: " + server.databaseDescription());
            String pgss = System.getenv("PROF_PGSS") == null ? null : ProfileMain.pgssUrl(server.databaseDescription());
            if (pgss != null) ProfileMain.pgss(pgss, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset(); SELECT pg_stat_reset_shared('wal')");
            Thread.sleep(Long.parseLong(System.getenv().getOrDefault("PROF_PAUSE", "1")) * 1000);
            // PROF_PING=1: first 500 reads of one run at 100/s (a call with no commit), to compare with the triggers.
            if (System.getenv("PROF_PING") != null) {
                String rid = client.runJson(wf, "{\"i\":-5000}", RunOptions.defaults()).runId();
                long[] pl = new long[500];
                long p0 = System.nanoTime();
                for (int i = 0; i < 500; i++) {
                    long due = p0 + i * 10_000_000L;
                    for (long d; (d = due - System.nanoTime()) > 0; ) java.util.concurrent.locks.LockSupport.parkNanos(d);
                    long a = System.nanoTime();
                    client.getRun(rid);
                    pl[i] = System.nanoTime() - a;
                }
                Arrays.sort(pl);
                System.out.printf("getRun ms p50 %.2f p90 %.2f p99 %.2f%n", pl[250] / 1e6, pl[450] / 1e6, pl[495] / 1e6);
            }
            long[] sent = new long[n];
            long[] returned = new long[n];
            long t0 = System.nanoTime();
            if (callers == 1) {
                for (int i = 0; i < n; i++) {
                    long due = t0 + i * 10_000_000L;
                    // Park, like the benchmark: spinning here held one of the box's two cores.
                    for (long d; (d = due - System.nanoTime()) > 0; ) java.util.concurrent.locks.LockSupport.parkNanos(d);
                    sent[i] = System.nanoTime();
                    client.runJson(wf, "{\"i\":" + i + "}", RunOptions.defaults());
                    returned[i] = System.nanoTime();
                }
            } else {
                Thread[] ts = new Thread[callers];
                for (int c = 0; c < callers; c++) {
                    int cc = c;
                    ts[c] = Thread.ofVirtual().start(() -> {
                        for (int i = cc; i < n; i += callers) {
                            sent[i] = System.nanoTime();
                            client.runJson(wf, "{\"i\":" + i + "}", RunOptions.defaults());
                        }
                    });
                }
                for (Thread t : ts) t.join();
            }
            double trig = (System.nanoTime() - t0) / 1e9;
            while (startedAt.keySet().stream().filter(k -> k >= 0).count() < n) Thread.sleep(5);
            double all = (System.nanoTime() - t0) / 1e9;
            double[] lat = new double[n];
            for (int i = 0; i < n; i++) lat[i] = (startedAt.get(i) - sent[i]) / 1e6;
            Arrays.sort(lat);
            System.out.printf("n=%d callers=%d triggers %.0f/s, end-to-end %.0f/s; latency ms p50 %.2f p95 %.2f p99 %.2f max %.2f%n",
                    n, callers, n / trig, n / all, lat[n / 2], lat[(int) (n * 0.95)], lat[(int) (n * 0.99)], lat[n - 1]);
            if (callers == 1) {
                // Where a slow one spent its time: in the trigger call, or between the call's return and the step.
                double[] call = new double[n], after = new double[n];
                for (int i = 0; i < n; i++) {
                    call[i] = (returned[i] - sent[i]) / 1e6;
                    after[i] = (startedAt.get(i) - returned[i]) / 1e6;
                }
                // PROF_SLOW=<ms>: each slow one with its send time, to see whether they come periodically.
                if (System.getenv("PROF_SLOW") != null) {
                    double slow = Double.parseDouble(System.getenv("PROF_SLOW"));
                    for (int i = 0; i < n; i++) {
                        if (call[i] + after[i] > slow) {
                            System.out.printf("  slow #%d at %.3f s: call %.2f ms, return → step %.2f ms%n",
                                    i, (sent[i] - t0) / 1e9, call[i], after[i]);
                        }
                    }
                }
                Arrays.sort(call);
                Arrays.sort(after);
                System.out.printf("  trigger call ms p50 %.2f p95 %.2f p99 %.2f | call return → step ms p50 %.2f p95 %.2f p99 %.2f%n",
                        call[n / 2], call[(int) (n * 0.95)], call[(int) (n * 0.99)],
                        after[n / 2], after[(int) (n * 0.95)], after[(int) (n * 0.99)]);
            }
            System.out.println(server.engine().stats().snapshot());
            if (pgss != null) ProfileMain.pgss(pgss, "SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync FROM pg_stat_wal");
            if (pgss != null) ProfileMain.pgss(pgss, """
                    SELECT round(total_exec_time::numeric / greatest(calls, 1), 3) AS exec_ms_per_call,
                           round(total_plan_time::numeric / greatest(calls, 1), 3) AS plan_ms_per_call, calls,
                           left(regexp_replace(query, '\\s+', ' ', 'g'), 100) FROM pg_stat_statements
                     ORDER BY total_exec_time + total_plan_time DESC LIMIT 14""");
            if (pgss != null) ProfileMain.pgss(pgss, """
                    SELECT round(total_exec_time::numeric / greatest(calls, 1), 3), calls, query FROM pg_stat_statements
                     WHERE query ILIKE 'commit%' OR query ILIKE 'begin%' OR query ILIKE 'notify%' OR query ILIKE '%pg_notify%'""");
            w.close(Duration.ofSeconds(5));
        } finally {
            server.close();
        }
    }
}
