package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunOptions;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import dev.drover.server.engine.EngineStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A step made ready by a worker's success goes straight back to that worker, leased in the report's
 * own transaction (a hand-off), instead of being queued and claimed: what the step receives is the
 * same as through a claim (input, parents' outputs, metadata), and the worker's slots still bound it.
 */
class HandOffTest {
    static DroverServer server;
    static DroverClient client;

    public record In(String id, int amount) {}
    public record Out(String id, int amount, String tag, int attempt) {}

    @Workflow(name = "handoff-chain", version = "1")
    public static class Chain {
        @Step(name = "first")
        public In first(In in) {
            return new In(in.id(), in.amount() + 1);
        }

        @Step(name = "second", parents = "first")
        public In second(StepContext ctx) {
            In p = ctx.parentOutput("first", In.class);
            return new In(p.id(), p.amount() * 10);
        }

        @Step(name = "third", parents = "second")
        public Out third(In in, StepContext ctx) {
            In p = ctx.parentOutput("second", In.class);
            return new Out(in.id(), p.amount(), ctx.metadata().get("tag"), ctx.attempt());
        }
    }

    static final AtomicInteger running = new AtomicInteger();
    static final AtomicInteger mostAtOnce = new AtomicInteger();

    @Workflow(name = "handoff-narrow", version = "1")
    public static class Narrow {
        private static void busy() throws InterruptedException {
            int now = running.incrementAndGet();
            mostAtOnce.accumulateAndGet(now, Math::max);
            Thread.sleep(5);
            running.decrementAndGet();
        }

        @Step(name = "a")
        public int a(In in) throws InterruptedException {
            busy();
            return 1;
        }

        @Step(name = "b", parents = "a")
        public int b(StepContext ctx) throws InterruptedException {
            busy();
            return 2;
        }

        @Step(name = "c", parents = "a")
        public int c(StepContext ctx) throws InterruptedException {
            busy();
            return 3;
        }

        @Step(name = "d", parents = {"b", "c"})
        public int d(StepContext ctx) throws InterruptedException {
            busy();
            return ctx.parentOutput("b", Integer.class) + ctx.parentOutput("c", Integer.class);
        }
    }

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.tempDir("handoff-"));
        client = TestServer.client(server.grpcPort());
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    @Test
    void childrenOfAnIdleWorkerAreHandedOffWithWhatAClaimWouldGive() throws Exception {
        // 100 slots: the dispatcher's idle probe (every poll) holds up to 16 free slots while it looks for
        // queued work; a worker with fewer would sometimes have none free for a hand-off at that moment.
        try (Worker w = client.newWorker("handoff-chain").register(new Chain()).slots(100).start()) {
            client.run("handoff-chain", new In("warm", 0)).result(Out.class).get(30, TimeUnit.SECONDS);
            EngineStats.Snapshot before = server.engine().stats().snapshot();
            List<RunHandle> runs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                runs.add(client.run("handoff-chain", new In("o-" + i, i), RunOptions.defaults().withMetadata("tag", "t" + i)));
                runs.get(i).result(Out.class).get(30, TimeUnit.SECONDS); // one at a time: the worker is idle each time
            }
            for (int i = 0; i < 5; i++) {
                Out out = runs.get(i).result(Out.class).get(30, TimeUnit.SECONDS);
                assertThat(out).isEqualTo(new Out("o-" + i, (i + 1) * 10, "t" + i, 1));
                assertThat(runs.get(i).status().status()).isEqualTo(RunStatus.SUCCEEDED);
            }
            EngineStats.Snapshot after = server.engine().stats().snapshot();
            // Each run's root went out with its trigger (direct dispatch) and both later steps with the
            // report of the step before, so nothing needed a claim. Two steps of slack: a step whose parent's
            // report lands while a claim pass holds the free slots takes the queue instead, and is claimed.
            long handed = after.handedOff() - before.handedOff();
            long claimed = after.claimedTasks() - before.claimedTasks();
            assertThat(handed).isBetween(8L, 10L);
            assertThat(handed + claimed).isGreaterThanOrEqualTo(10);
        }
    }

    @Test
    void handOffsStayWithinTheWorkersSlots() throws Exception {
        running.set(0);
        mostAtOnce.set(0);
        try (Worker w = client.newWorker("handoff-narrow").register(new Narrow()).slots(2).start()) {
            List<RunHandle> runs = new ArrayList<>();
            for (int i = 0; i < 20; i++) runs.add(client.run("handoff-narrow", new In("n-" + i, i)));
            for (RunHandle r : runs) {
                assertThat(r.result(Integer.class).get(60, TimeUnit.SECONDS)).isEqualTo(5);
            }
            assertThat(mostAtOnce.get()).isBetween(1, 2);
            w.close(Duration.ofSeconds(5));
        }
    }
}
