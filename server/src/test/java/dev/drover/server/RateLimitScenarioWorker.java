package dev.drover.server;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RateLimit;
import dev.drover.sdk.Step;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A worker process for {@link RateLimitScenarioIT}: its step stands for a call to a rate-limited API.
 * It returns the instant it started (this machine's clock, shared with the database server in the
 * test), which is what the test counts per window.
 */
public final class RateLimitScenarioWorker {
    @Workflow(name = "rl-scenario", version = "1")
    public static class CallApi {
        @Step
        @RateLimit(name = "rl-scenario-api")
        public long call() throws InterruptedException {
            long started = System.currentTimeMillis();
            Thread.sleep(20); // the API call
            return started;
        }
    }

    public static void main(String[] args) throws Exception {
        Path markers = Path.of(System.getenv("MARKER_DIR"));
        DroverClient client = DroverClient.builder().address(System.getenv("DROVER_ADDRESS"))
                .token(System.getenv("DROVER_TOKEN")).build();
        Worker worker = client.newWorker("rl-scenario-" + ProcessHandle.current().pid()).register(new CallApi())
                .slots(Integer.parseInt(System.getenv().getOrDefault("SLOTS", "10"))).start();
        Files.writeString(markers.resolve("worker-ready-" + ProcessHandle.current().pid()), worker.workerId());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> worker.close(Duration.ofSeconds(2))));
        Thread.currentThread().join();
    }
}
