package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.AttemptRef;
import dev.drover.proto.v1.ListenRequest;
import dev.drover.proto.v1.RegisterRequest;
import dev.drover.proto.v1.ReleaseStepsRequest;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.WorkerServiceGrpc;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunRequest;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.StepInfo;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import dev.drover.sdk.internal.Definitions;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Graceful worker shutdown hands back the steps a worker received but will not start
 * (ReleaseSteps): another worker runs them at once, as the same attempt number, instead of after the
 * lease. The server's leases last 20 s here, so "at once" is asserted as "well within half a lease"
 * (10 s; it takes milliseconds) — a step that waited out its lease could not pass, and a loaded box
 * has plenty of room.
 */
class WorkerHandBackTest {
    static final Duration LEASE = Duration.ofSeconds(20);
    static DroverServer server;
    static DroverClient client;
    /** Executions per run id, recorded by the steps themselves. */
    static final Map<String, AtomicInteger> executions = new ConcurrentHashMap<>();

    @Workflow(name = "handback", version = "1")
    public static class HandBack {
        @Step(maxAttempts = 3)
        public String work(StepContext ctx) throws InterruptedException {
            executions.computeIfAbsent(ctx.runId(), k -> new AtomicInteger()).incrementAndGet();
            Thread.sleep(2);
            return "ok";
        }
    }

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.tempDir("drover-handback-"), LEASE.toSeconds() + "s");
        client = TestServer.client(server.grpcPort());
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (server != null) server.close();
    }

    /**
     * The protocol, step by step, with a worker written against the .proto (as a worker in another
     * language would be): it receives steps and never starts them, announces it is leaving, sees its
     * stream end, and hands them back. Deterministic: the steps are certainly in its hands.
     */
    @Test
    void stepsHandedBackRunElsewhereAtOnceAsTheSameAttempt() throws Exception {
        ManagedChannel channel = TestServer.channel(server.grpcPort());
        try {
            var blocking = WorkerServiceGrpc.newBlockingStub(channel).withInterceptors(TestServer.auth());
            var async = WorkerServiceGrpc.newStub(channel).withInterceptors(TestServer.auth());
            String rawId = blocking.register(RegisterRequest.newBuilder().setWorkerName("raw-leaver").setSlots(5)
                    .addWorkflows(Definitions.fromClass(HandBack.class).toProto()).setSdk("test/raw").build()).getWorkerId();
            List<StartStep> received = new CopyOnWriteArrayList<>();
            CountDownLatch ended = new CountDownLatch(1);
            async.listen(ListenRequest.newBuilder().setWorkerId(rawId).build(), new StreamObserver<Assignment>() {
                @Override
                public void onNext(Assignment a) {
                    if (a.hasStart()) received.add(a.getStart());
                    received.addAll(a.getStarts().getStepsList());
                }

                @Override
                public void onError(Throwable t) {
                    ended.countDown();
                }

                @Override
                public void onCompleted() {
                    ended.countDown();
                }
            });
            List<RunRequest> reqs = new ArrayList<>();
            for (int i = 0; i < 5; i++) reqs.add(RunRequest.of("handback", Map.of("i", i)));
            List<RunHandle> runs = client.runMany(reqs);
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.size() < 5 && System.nanoTime() < waitUntil) Thread.sleep(10);
            assertThat(received).as("the raw worker holds all 5 steps").hasSize(5);

            try (Worker other = client.newWorker("taker").register(new HandBack()).slots(5).start()) {
                long t0 = System.nanoTime();
                blocking.releaseSteps(ReleaseStepsRequest.newBuilder().setWorkerId(rawId).setLeaving(true).build());
                assertThat(ended.await(10, TimeUnit.SECONDS)).as("the server ends a leaving worker's stream").isTrue();
                ReleaseStepsRequest.Builder back = ReleaseStepsRequest.newBuilder().setWorkerId(rawId);
                for (StartStep s : received) back.addSteps(AttemptRef.newBuilder().setTaskId(s.getTaskId()).setAttempt(s.getAttempt()));
                assertThat(blocking.releaseSteps(back.build()).getReleased()).isEqualTo(5);
                // Fencing: a repeated call finds nothing leased to it any more.
                assertThat(blocking.releaseSteps(back.build()).getReleased()).isZero();

                for (RunHandle h : runs) {
                    RunInfo r = h.await(LEASE);
                    assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
                    StepInfo work = r.steps().get(0);
                    assertThat(work.attempts()).as("the hand-back is not an attempt").isEqualTo(1);
                    assertThat(work.workerId()).isEqualTo(other.workerId());
                    assertThat(executions.get(r.id()).get()).as("executions of " + r.id()).isEqualTo(1);
                }
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                System.out.printf("hand-back (protocol): 5 steps released and run elsewhere in %d ms (lease %d ms)%n", ms,
                        LEASE.toMillis());
                assertThat(ms).as("well before half a lease").isLessThan(LEASE.toMillis() / 2);
            }
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * The SDK's graceful close while work streams to the worker: whatever is on its way to it when it
     * closes is handed back (the SDK starts a step the moment it arrives, so that is what a worker
     * holds unstarted; see WorkerRuntime.handBack). Every run ends, each step ran once as attempt 1,
     * and the last run ends well before a lease could have expired.
     */
    @Test
    void aWorkerClosedUnderLoadLeavesNothingWaitingForALease() throws Exception {
        Worker leaver = client.newWorker("leaver").register(new HandBack()).slots(20).start();
        List<RunRequest> reqs = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) reqs.add(RunRequest.of("handback", Map.of("n", i)));
        List<RunHandle> runs = client.runMany(reqs);
        java.util.Set<String> ids = new java.util.HashSet<>();
        runs.forEach(h -> ids.add(h.runId()));
        // Close while steps stream to it: after 200 ran, with most still queued.
        long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (ids.stream().filter(executions::containsKey).count() < 200 && System.nanoTime() < waitUntil) Thread.sleep(2);
        try (Worker taker = client.newWorker("taker-2").register(new HandBack()).slots(50).start()) {
            long t0 = System.nanoTime();
            leaver.close();
            long closedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            int onLeaver = 0;
            for (RunHandle h : runs) {
                RunInfo r = h.await(LEASE.multipliedBy(2));
                assertThat(r.status()).as("run " + r.id()).isEqualTo(RunStatus.SUCCEEDED);
                StepInfo work = r.steps().get(0);
                assertThat(work.attempts()).as("attempts of " + r.id()).isEqualTo(1);
                assertThat(executions.get(r.id()).get()).as("executions of " + r.id()).isEqualTo(1);
                if (!work.workerId().equals(taker.workerId())) onLeaver++;
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.printf("hand-back (SDK close under load): close took %d ms, all 1000 runs done %d ms after it began"
                    + " (%d ran on the closed worker; lease %d ms)%n", closedMs, ms, onLeaver, LEASE.toMillis());
            assertThat(ms).as("well before half a lease").isLessThan(LEASE.toMillis() / 2);
        }
    }
}
