package dev.drover.server;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.Step;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;

/**
 * A developer's harness (not a test): single triggers at a fixed rate from many threads while one
 * worker drains, printing a per-second timeline (triggered, executed, worst trigger-to-start that
 * second, engine counters, the worker's used slots as the server sees them), to see where a steady
 * state falls behind. Args: rate, seconds, senders, slots.
 */
public final class ProfileSteady {
    static final AtomicLong executed = new AtomicLong();
    static final LongAccumulator worstMs = new LongAccumulator(Math::max, 0);

    @Workflow(name = "prof-steady", version = "1")
    public static class Noop {
        @Step(name = "noop")
        public int noop(Map<String, Long> in) {
            worstMs.accumulate((System.nanoTime() - in.get("t")) / 1_000_000);
            executed.incrementAndGet();
            return 1;
        }
    }

    /** The in-memory slot accounting of each connected worker (used / bound), read reflectively. */
    static String memory(DroverServer server) {
        try {
            Object registry = server.engine().workers();
            var m = registry.getClass().getDeclaredMethod("sessions");
            m.setAccessible(true);
            StringBuilder sb = new StringBuilder();
            for (Object s : (java.util.Collection<?>) m.invoke(registry)) {
                var used = s.getClass().getDeclaredField("used");
                used.setAccessible(true);
                var inflight = s.getClass().getDeclaredMethod("inFlightCount");
                inflight.setAccessible(true);
                sb.append(used.get(s)).append('/').append(inflight.invoke(s)).append(' ');
            }
            return sb.toString().trim();
        } catch (ReflectiveOperationException e) {
            return e.toString();
        }
    }

    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int senders = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int slots = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
        DroverServer server = TestServer.start(TestServer.tempDir("prof-steady-"));
        System.out.println("database: " + server.databaseDescription());
        try (DroverClient client = TestServer.client(server.grpcPort())) {
            Worker w = client.newWorker("drain").register(new Noop()).slots(slots).start();
            long total = (long) rate * seconds;
            AtomicLong next = new AtomicLong();
            AtomicLong triggered = new AtomicLong();
            long t0 = System.nanoTime();
            for (int s = 0; s < senders; s++) {
                Thread.ofVirtual().start(() -> {
                    long i;
                    while ((i = next.getAndIncrement()) < total) {
                        long due = t0 + i * 1_000_000_000L / rate;
                        long wait = due - System.nanoTime();
                        if (wait > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
                        client.runJson("prof-steady", "{\"t\":" + System.nanoTime() + "}", RunOptions.defaults());
                        triggered.incrementAndGet();
                    }
                });
            }
            // PROF_PGSS=1 (with DROVER_EMBEDDED_PG_SETTINGS=shared_preload_libraries=pg_stat_statements): where
            // PostgreSQL spends its time, statement by statement, from second 10 to the end (the JIT is still warming up then).
            String pgss = System.getenv("PROF_PGSS") == null ? null : ProfileMain.pgssUrl(server.databaseDescription());
            var prev = server.engine().stats().snapshot();
            long prevTrig = 0, prevExec = 0;
            for (int sec = 1; executed.get() < total && sec < seconds * 5; sec++) {
                Thread.sleep(1000);
                var now = server.engine().stats().snapshot();
                long trig = triggered.get(), exec = executed.get();
                int used = server.engine().workers().list("default").stream().mapToInt(v -> v.usedSlots()).sum();
                String mem = memory(server);
                System.out.printf("t=%3ds trig=%5d exec=%5d worst=%5dms | claims %3d (%5d tasks) reports %3d (%5d ev) groups %4d (%5d runs, %.1f ms avg) | used=%d mem=%s%n",
                        sec, trig - prevTrig, exec - prevExec, worstMs.getThenReset(),
                        now.claimBatches() - prev.claimBatches(), now.claimedTasks() - prev.claimedTasks(),
                        now.reportBatches() - prev.reportBatches(), now.reportEvents() - prev.reportEvents(),
                        now.triggerGroups() - prev.triggerGroups(), now.triggeredRuns() - prev.triggeredRuns(),
                        (now.triggerGroups() - prev.triggerGroups()) == 0 ? 0.0
                                : (now.triggerMicros() - prev.triggerMicros()) / 1000.0 / (now.triggerGroups() - prev.triggerGroups()),
                        used, mem);
                // PROF_AP=<libasyncProfiler.so> (its jar on the class path): CPU profile of seconds 15-35,
                // collapsed, to /tmp/ap-steady.txt.
                if (System.getenv("PROF_AP") != null && sec == Integer.getInteger("prof.from", 15)) ProfileMain.asyncProfiler("start,event=cpu,interval=1ms,threads");
                if (System.getenv("PROF_AP") != null && sec == Integer.getInteger("prof.from", 15) + 20) ProfileMain.asyncProfiler("stop,file=/tmp/ap-steady.txt,collapsed");
                if (pgss != null && sec == 10) {
                    ProfileMain.pgss(pgss, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()");
                }
                prev = now;
                prevTrig = trig;
                prevExec = exec;
            }
            if (pgss != null) ProfileMain.pgss(pgss, """
                    SELECT round(total_exec_time)::int AS exec_ms, round(total_plan_time)::int AS plan_ms, calls, rows,
                           left(regexp_replace(query, '\\s+', ' ', 'g'), 110) FROM pg_stat_statements
                     ORDER BY total_exec_time + total_plan_time DESC LIMIT 14""");
            w.close(Duration.ofSeconds(5));
            if (System.getenv("PROF_HOLD") != null) Thread.sleep(Long.parseLong(System.getenv("PROF_HOLD")) * 1000);
        } finally {
            server.close();
        }
    }
}
