package dev.drover.server;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunRequest;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A developer's profiling harness (not a test): bulk-enqueue N no-op runs, then drain them with one
 * worker, printing the rates. Run it under JFR to see where the engine spends its time.
 */
public final class ProfileMain {
    static final AtomicLong done = new AtomicLong();

    @Workflow(name = "prof-noop", version = "1")
    public static class Noop {
        @Step(name = "noop")
        public int noop() {
            done.incrementAndGet();
            return 1;
        }
    }

    static Object asyncProfiler(String command) throws Exception {
        Class<?> c = Class.forName("one.profiler.AsyncProfiler");
        Object p = c.getMethod("getInstance", String.class).invoke(null, System.getenv("PROF_AP"));
        System.out.println("async-profiler: " + c.getMethod("execute", String.class).invoke(p, command));
        return p;
    }

    static String pgssUrl(String description) {
        var m = java.util.regex.Pattern.compile("127\\.0\\.0\\.1:(\\d+)").matcher(description);
        return m.find() ? "jdbc:postgresql://127.0.0.1:" + m.group(1) + "/postgres?user=postgres" : null;
    }

    static void pgss(String url, String sql) throws Exception {
        try (var c = java.sql.DriverManager.getConnection(url); var st = c.createStatement()) {
            boolean rs = st.execute(sql);
            while (true) {
                if (rs) {
                    try (var r = st.getResultSet()) {
                        int n = r.getMetaData().getColumnCount();
                        while (r.next()) {
                            StringBuilder b = new StringBuilder();
                            for (int i = 1; i <= n; i++) b.append(i > 1 ? " | " : "").append(r.getString(i));
                            System.out.println(b);
                        }
                    }
                } else if (st.getUpdateCount() == -1) {
                    break;
                }
                rs = st.getMoreResults();
            }
        }
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        int slots = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        DroverServer server = TestServer.start(TestServer.tempDir("prof-"));
        try (DroverClient client = TestServer.client(server.grpcPort())) {
            client.newWorker("reg").register(new Noop()).slots(1).start().close(Duration.ofSeconds(1));
            int rounds = Integer.parseInt(System.getenv().getOrDefault("PROF_ROUNDS", "1"));
            for (int round = 1; round <= rounds; round++) {
            done.set(0);
            String pgssEnq = System.getenv("PROF_PGSS_ENQUEUE") == null ? null : pgssUrl(server.databaseDescription());
            if (pgssEnq != null) pgss(pgssEnq, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()");
            long t0 = System.nanoTime();
            String last = null;
            for (int i = 0; i < n; i += 10_000) {
                List<RunRequest> batch = new ArrayList<>();
                for (int j = i; j < Math.min(n, i + 10_000); j++) batch.add(RunRequest.of("prof-noop", Map.of("i", j)));
                var handles = client.runMany(batch);
                last = handles.get(handles.size() - 1).runId();
            }
            double enq = (System.nanoTime() - t0) / 1e9;
            System.out.printf("enqueued %d in %.2fs = %.0f/s%n", n, enq, n / enq);
            if (pgssEnq != null) pgss(pgssEnq, """
                    SELECT round(total_exec_time)::int AS exec_ms, round(total_plan_time)::int AS plan_ms, calls, rows,
                           left(regexp_replace(query, '\\s+', ' ', 'g'), 110) FROM pg_stat_statements
                     ORDER BY total_exec_time + total_plan_time DESC LIMIT 8""");
            if (System.getenv("PROF_PAUSE") != null) {
                System.out.println("paused; database: " + server.databaseDescription());
                Thread.sleep(Long.parseLong(System.getenv("PROF_PAUSE")) * 1000);
            }
            // PROF_PGSS=1 with DROVER_EMBEDDED_PG_SETTINGS=shared_preload_libraries=pg_stat_statements:
            // print where PostgreSQL spent its time during the drain, statement by statement.
            String pgss = System.getenv("PROF_PGSS") == null ? null : pgssUrl(server.databaseDescription());
            if (pgss != null) pgss(pgss, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()");
            // PROF_AP=<path to libasyncProfiler.so> (async-profiler's jar on the class path): CPU profile of
            // the last round's drain, when the JIT has settled, written collapsed to /tmp/ap-drain.txt.
            Object ap = System.getenv("PROF_AP") != null && round == rounds ? asyncProfiler("start,event=cpu,interval=1ms") : null;
            long t1 = System.nanoTime();
            Worker w = client.newWorker("drain").register(new Noop()).slots(slots).start();
            while (done.get() < n) Thread.sleep(5);
            double exec = (System.nanoTime() - t1) / 1e9;
            var info = client.awaitRun(last, Duration.ofSeconds(60));
            double all = (System.nanoTime() - t1) / 1e9;
            System.out.printf("executed %d in %.2fs = %.0f/s; all recorded in %.2fs = %.0f/s (last %s)%n",
                    n, exec, n / exec, all, n / all, info.status());
            if (ap != null) asyncProfiler("stop,file=/tmp/ap-drain.txt,collapsed");
            System.out.println(server.engine().stats().snapshot());
            if (pgss != null) pgss(pgss, """
                    SELECT round(total_exec_time)::int AS exec_ms, round(total_plan_time)::int AS plan_ms, calls, rows,
                           left(regexp_replace(query, '\\s+', ' ', 'g'), 110) FROM pg_stat_statements
                     ORDER BY total_exec_time + total_plan_time DESC LIMIT 12""");
            if (pgss != null) pgss(pgss, """
                    SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_newpage_upd, n_tup_del, n_dead_tup,
                           pg_size_pretty(pg_table_size(relid)) FROM pg_stat_user_tables
                     WHERE relname IN ('drover_run', 'drover_step_run', 'drover_task') ORDER BY relname""");
            if (info.status() != RunStatus.SUCCEEDED) System.out.println("LAST RUN NOT SUCCEEDED");
            w.close(Duration.ofSeconds(5));
            }
        } finally {
            server.close();
        }
    }
}
