package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.ListenRequest;
import dev.drover.proto.v1.RegisterRequest;
import dev.drover.proto.v1.RegisterResponse;
import dev.drover.proto.v1.ReportStepEventsRequest;
import dev.drover.proto.v1.StepCompleted;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.StepEvent;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.WorkerServiceGrpc;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.proto.v1.RetryPolicy;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunStatus;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A worker process is killed with SIGKILL in the middle of a step: after its lease expires the step
 * runs again on another worker and the run succeeds; a report from the dead attempt is rejected.
 */
class WorkerCrashIT {

    @Test
    void a_killed_workers_step_is_rerun_elsewhere_and_its_late_result_is_rejected() throws Exception {
        DroverServer server = TestServer.shared();
        Path markers = TestServer.tempDir("markers-");
        Process proc = TestServer.spawn(CrashTestWorker.class, Map.of(
                "DROVER_ADDRESS", "127.0.0.1:" + server.grpcPort(), "DROVER_TOKEN", TestServer.TOKEN,
                "MARKER_DIR", markers.toString()), markers.resolve("worker.log"));
        try (DroverClient client = TestServer.client()) {
            waitFor(() -> listMarkers(markers, "worker-ready-") > 0, 60, "the worker process registered");
            RunHandle run = client.run("crash-wf", Map.of("order", 1));
            Path firstAttempt = markers.resolve(run.runId() + "-attempt-1");
            waitFor(() -> Files.exists(firstAttempt), 30, "attempt 1 started in the worker process");

            proc.destroyForcibly(); // SIGKILL: no goodbye, no report
            assertThat(proc.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(client.getRun(run.runId()).status()).isEqualTo(RunStatus.RUNNING);

            // A second worker, speaking the protocol directly so the test sees task ids and attempts.
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            try {
                Metadata md = new Metadata();
                md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TestServer.TOKEN);
                var blocking = WorkerServiceGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
                var async = WorkerServiceGrpc.newStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
                RegisterResponse reg = blocking.register(RegisterRequest.newBuilder().setWorkerName("raw-worker").setSlots(1)
                        .addWorkflows(WorkflowDefinition.newBuilder().setName("crash-wf").setVersion("1")
                                .addSteps(StepDefinition.newBuilder().setName("work")
                                        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(3)))).build());
                BlockingQueue<StartStep> starts = new LinkedBlockingQueue<>();
                async.listen(ListenRequest.newBuilder().setWorkerId(reg.getWorkerId()).build(), new StreamObserver<>() {
                    public void onNext(Assignment a) { if (a.hasStart()) starts.add(a.getStart()); }
                    public void onError(Throwable t) { }
                    public void onCompleted() { }
                });

                // The lease (3 s in tests) expires, then the step is handed to the live worker as attempt 2.
                StartStep second = starts.poll(30, TimeUnit.SECONDS);
                assertThat(second).as("the step was reassigned after the lease expired").isNotNull();
                assertThat(second.getRunId()).isEqualTo(run.runId());
                assertThat(second.getAttempt()).isEqualTo(2);

                // The dead attempt's result arrives late (say, from a network buffer): rejected.
                var late = blocking.reportStepEvents(ReportStepEventsRequest.newBuilder().setWorkerId(reg.getWorkerId())
                        .addEvents(StepEvent.newBuilder().setTaskId(second.getTaskId()).setAttempt(1)
                                .setCompleted(StepCompleted.newBuilder().setOutputJson("\"from the dead\""))).build());
                assertThat(late.getAcceptedList()).containsExactly(false);

                var current = blocking.reportStepEvents(ReportStepEventsRequest.newBuilder().setWorkerId(reg.getWorkerId())
                        .addEvents(StepEvent.newBuilder().setTaskId(second.getTaskId()).setAttempt(2)
                                .setCompleted(StepCompleted.newBuilder().setOutputJson("\"recovered\""))).build());
                assertThat(current.getAcceptedList()).containsExactly(true);
            } finally {
                ch.shutdownNow();
            }

            RunInfo done = client.awaitRun(run.runId(), Duration.ofSeconds(10));
            assertThat(done.status()).isEqualTo(RunStatus.SUCCEEDED);
            assertThat(done.output(String.class)).isEqualTo("recovered");
            assertThat(done.step("work").attempts()).isEqualTo(2);
        } finally {
            proc.destroyForcibly();
        }
    }

    static long listMarkers(Path dir, String prefix) {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix)).count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    static void waitFor(java.util.function.BooleanSupplier cond, int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
            Thread.sleep(20);
        }
    }
}
