package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The server process is killed with SIGKILL while runs are in flight, then started again on the same
 * data directory (its embedded PostgreSQL included): every run it had accepted still completes.
 */
class ServerCrashIT {
    static final Set<String> executed = ConcurrentHashMap.newKeySet();

    @Workflow(name = "server-crash-wf", version = "1")
    public static class TwoSteps {
        @Step(name = "first")
        public int first(Map<String, Integer> in, StepContext ctx) throws InterruptedException {
            Thread.sleep(50);
            return in.get("n");
        }

        @Step(name = "second", parents = "first", maxAttempts = 3)
        public int second(StepContext ctx) throws InterruptedException {
            Thread.sleep(50);
            executed.add(ctx.runId());
            return ctx.parentOutput("first", Integer.class) * 2;
        }
    }

    @Test
    void every_accepted_run_completes_after_the_server_is_killed_and_restarted() throws Exception {
        Path dataDir = TestServer.tempDir("server-crash-");
        int grpcPort = TestServer.freePort(), httpPort = TestServer.freePort();
        Map<String, String> env = Map.of("DROVER_DATA_DIR", dataDir.toString(), "DROVER_GRPC_PORT", "" + grpcPort,
                "DROVER_HTTP_PORT", "" + httpPort, "DROVER_TOKEN", TestServer.TOKEN, "DROVER_LEASE_TIMEOUT", "5s",
                "DROVER_BIND_ADDRESS", "127.0.0.1");
        Process server = TestServer.spawn(DroverServer.class, env, dataDir.resolve("server-1.log"));
        Process restarted = null;
        try {
            awaitReady(httpPort, 90);
            try (DroverClient client = TestServer.client(grpcPort)) {
                Worker worker = client.newWorker("survivor").register(new TwoSteps()).slots(4).start();
                List<String> accepted = new ArrayList<>();
                for (int i = 0; i < 60; i++) accepted.add(client.run("server-crash-wf", Map.of("n", i)).runId());
                WorkerCrashIT.waitFor(() -> executed.size() >= 5, 60, "some runs finished before the crash");

                server.destroyForcibly();
                assertThat(server.waitFor(10, TimeUnit.SECONDS)).isTrue();
                int doneBeforeCrash = executed.size();
                assertThat(doneBeforeCrash).as("the crash happened mid-way").isLessThan(accepted.size());

                restarted = TestServer.spawn(DroverServer.class, env, dataDir.resolve("server-2.log"));
                awaitReady(httpPort, 90);

                for (int i = 0; i < accepted.size(); i++) {
                    RunInfo r = client.awaitRun(accepted.get(i), Duration.ofSeconds(60));
                    assertThat(r.status()).as("run %s", r.id()).isEqualTo(RunStatus.SUCCEEDED);
                    assertThat(r.output(Integer.class)).isEqualTo(i * 2);
                }
                assertThat(executed).containsAll(accepted);
                worker.close(Duration.ofSeconds(5));
            }
        } finally {
            server.destroyForcibly();
            if (restarted != null) {
                restarted.destroy(); // SIGTERM: graceful, stops its embedded PostgreSQL
                if (!restarted.waitFor(20, TimeUnit.SECONDS)) restarted.destroyForcibly();
            }
            stopOrphanPostgres(dataDir);
        }
    }

    static void awaitReady(int httpPort, int seconds) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try {
                var resp = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/readyz")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (resp.statusCode() == 200) return;
            } catch (java.io.IOException notYet) {
                // still starting
            }
            Thread.sleep(100);
        }
        throw new AssertionError("server on HTTP port " + httpPort + " not ready after " + seconds + " s");
    }

    static void stopOrphanPostgres(Path dataDir) {
        Path pid = dataDir.resolve("pg").resolve("postmaster.pid");
        try {
            if (!Files.exists(pid)) return;
            long p = Long.parseLong(Files.readAllLines(pid).get(0).trim());
            ProcessHandle.of(p).ifPresent(ProcessHandle::destroy);
        } catch (Exception ignored) {
            // best effort cleanup
        }
    }
}
