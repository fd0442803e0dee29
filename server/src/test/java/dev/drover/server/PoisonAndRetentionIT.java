package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import dev.drover.server.config.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A poison step (it kills its worker's JVM every time) ends as a failed run after its attempts, while
 * the fleet keeps being replaced; and finished history is pruned after the retention.
 */
class PoisonAndRetentionIT {

    /** A worker process whose only step halts the JVM: the crash a poison message causes. */
    public static final class PoisonWorker {
        @Workflow(name = "poison-wf", version = "1")
        public static class Poison {
            @Step(name = "eat", maxAttempts = 2)
            public String eat() {
                Runtime.getRuntime().halt(137);
                return "unreachable";
            }
        }

        public static void main(String[] args) throws Exception {
            DroverClient client = DroverClient.builder().address(System.getenv("DROVER_ADDRESS"))
                    .token(System.getenv("DROVER_TOKEN")).build();
            client.newWorker("poison-worker").register(new Poison()).slots(1).start();
            Thread.currentThread().join();
        }
    }

    @Test
    void a_step_that_kills_its_worker_every_time_fails_the_run_after_its_attempts() throws Exception {
        DroverServer server = TestServer.shared();
        Path logs = TestServer.tempDir("poison-");
        Map<String, String> env = Map.of("DROVER_ADDRESS", "127.0.0.1:" + server.grpcPort(), "DROVER_TOKEN", TestServer.TOKEN);
        List<Process> spawned = new ArrayList<>();
        try (DroverClient client = TestServer.client()) {
            spawned.add(TestServer.spawn(PoisonWorker.class, env, logs.resolve("w0.log")));
            // the definition is registered by the worker process; wait until triggering works
            String runId = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (runId == null) {
                try {
                    runId = client.run("poison-wf", Map.of()).runId();
                } catch (DroverException e) {
                    if (System.nanoTime() > deadline) throw e;
                    Thread.sleep(200);
                }
            }
            // Keep a worker alive, as a supervisor (systemd, Kubernetes) would.
            RunInfo info = client.getRun(runId);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!info.status().isFinal() && System.nanoTime() < deadline) {
                if (spawned.stream().noneMatch(Process::isAlive)) {
                    spawned.add(TestServer.spawn(PoisonWorker.class, env, logs.resolve("w" + spawned.size() + ".log")));
                }
                Thread.sleep(200);
                info = client.getRun(runId);
            }
            assertThat(info.status()).isEqualTo(RunStatus.FAILED);
            assertThat(info.step("eat").attempts()).isEqualTo(2);
            assertThat(info.error()).contains("lost");
            assertThat(spawned.size()).as("each attempt took a worker down").isGreaterThanOrEqualTo(2);
        } finally {
            spawned.forEach(Process::destroyForcibly);
        }
    }

    @Workflow(name = "retention-wf", version = "1")
    public static class Quick {
        @Step(name = "quick")
        public int quick() {
            return 1;
        }
    }

    @Test
    void finished_runs_are_pruned_after_the_retention_and_unfinished_ones_are_kept() throws Exception {
        ServerConfig.Overrides o = new ServerConfig.Overrides();
        o.dataDir = TestServer.tempDir("retention-").toString();
        o.httpPort = "0";
        o.grpcPort = "0";
        o.bindAddress = "127.0.0.1";
        o.token = TestServer.TOKEN;
        try (DroverServer server = DroverServer.start(ServerConfig.fromEnvironment(Map.of("DROVER_RETENTION", "2s"), o));
             DroverClient client = TestServer.client(server.grpcPort())) {
            Worker worker = client.newWorker("quick").register(new Quick()).slots(4).start();
            String finished = client.run("retention-wf", Map.of()).runId();
            assertThat(client.awaitRun(finished, Duration.ofSeconds(10)).status()).isEqualTo(RunStatus.SUCCEEDED);
            worker.close(Duration.ofSeconds(2));
            String unfinished = client.run("retention-wf", Map.of()).runId(); // no worker: stays queued

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            boolean gone = false;
            while (!gone && System.nanoTime() < deadline) {
                try {
                    client.getRun(finished);
                    Thread.sleep(200);
                } catch (DroverException e) {
                    gone = e.code() == DroverException.Code.NOT_FOUND;
                }
            }
            assertThat(gone).as("the finished run was pruned").isTrue();
            assertThat(client.getRun(unfinished).status()).isEqualTo(RunStatus.QUEUED);
        }
    }
}
