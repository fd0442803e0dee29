package dev.drover.server;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A worker process for the crash tests. Its step leaves a marker file per attempt (so the test knows
 * the step is running) and then works slowly, giving the test time to kill the process mid-step.
 */
public final class CrashTestWorker {
    static Path markers;

    @Workflow(name = "crash-wf", version = "1")
    public static class CrashWorkflow {
        @Step(name = "work", maxAttempts = 3)
        public String work(StepContext ctx) throws Exception {
            Files.writeString(markers.resolve(ctx.runId() + "-attempt-" + ctx.attempt()), "" + ProcessHandle.current().pid());
            Thread.sleep(Long.parseLong(System.getenv().getOrDefault("STEP_SLEEP_MS", "60000")));
            return "done by " + ProcessHandle.current().pid();
        }
    }

    public static void main(String[] args) throws Exception {
        markers = Path.of(System.getenv("MARKER_DIR"));
        DroverClient client = DroverClient.builder().address(System.getenv("DROVER_ADDRESS"))
                .token(System.getenv("DROVER_TOKEN")).build();
        Worker worker = client.newWorker("crash-test-worker").register(new CrashWorkflow())
                .slots(Integer.parseInt(System.getenv().getOrDefault("SLOTS", "4"))).start();
        Files.writeString(markers.resolve("worker-ready-" + ProcessHandle.current().pid()), worker.workerId());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> worker.close(Duration.ofSeconds(2))));
        Thread.currentThread().join();
    }
}
