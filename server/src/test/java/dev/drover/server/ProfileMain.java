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

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        int slots = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        DroverServer server = TestServer.start(TestServer.tempDir("prof-"));
        try (DroverClient client = TestServer.client(server.grpcPort())) {
            client.newWorker("reg").register(new Noop()).slots(1).start().close(Duration.ofSeconds(1));
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
            if (System.getenv("PROF_PAUSE") != null) {
                System.out.println("paused; database: " + server.databaseDescription());
                Thread.sleep(Long.parseLong(System.getenv("PROF_PAUSE")) * 1000);
            }
            long t1 = System.nanoTime();
            Worker w = client.newWorker("drain").register(new Noop()).slots(slots).start();
            while (done.get() < n) Thread.sleep(5);
            double exec = (System.nanoTime() - t1) / 1e9;
            var info = client.awaitRun(last, Duration.ofSeconds(60));
            double all = (System.nanoTime() - t1) / 1e9;
            System.out.printf("executed %d in %.2fs = %.0f/s; all recorded in %.2fs = %.0f/s (last %s)%n",
                    n, exec, n / exec, all, n / all, info.status());
            System.out.println(server.engine().stats().snapshot());
            if (info.status() != RunStatus.SUCCEEDED) System.out.println("LAST RUN NOT SUCCEEDED");
            w.close(Duration.ofSeconds(5));
        } finally {
            server.close();
        }
    }
}
