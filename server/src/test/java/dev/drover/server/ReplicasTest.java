package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import dev.drover.server.config.ServerConfig;
import dev.drover.server.store.EmbeddedPostgresLauncher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two servers on one PostgreSQL: either accepts any call, work flows across them, and one can go away. */
class ReplicasTest {
    static EmbeddedPostgresLauncher pg;
    static DroverServer a;
    static DroverServer b;

    static final CountDownLatch longStarted = new CountDownLatch(1);
    static final AtomicBoolean sawCancel = new AtomicBoolean();

    @Workflow(name = "replica-wf", version = "1")
    public static class Work {
        @Step(name = "work")
        public String work(Map<String, String> in, StepContext ctx) throws InterruptedException {
            if ("long".equals(in.get("mode"))) {
                longStarted.countDown();
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    sawCancel.set(ctx.isCancelled());
                    throw e;
                }
            }
            return "done";
        }
    }

    static DroverServer server(Path dir, String url) throws Exception {
        ServerConfig.Overrides o = new ServerConfig.Overrides();
        o.dataDir = dir.toString();
        o.databaseUrl = url;
        o.httpPort = "0";
        o.grpcPort = "0";
        o.bindAddress = "127.0.0.1";
        o.token = TestServer.TOKEN;
        o.leaseTimeout = "3s";
        o.heartbeatInterval = "500ms";
        return DroverServer.start(ServerConfig.fromEnvironment(Map.of(), o));
    }

    @BeforeAll
    static void start() throws Exception {
        Path dir = TestServer.tempDir("replicas-");
        pg = EmbeddedPostgresLauncher.start(dir.resolve("db"), 0);
        a = server(dir.resolve("a"), pg.jdbcUrl());
        b = server(dir.resolve("b"), pg.jdbcUrl());
    }

    @AfterAll
    static void stop() throws Exception {
        if (b != null) b.close();
        if (a != null) a.close();
        pg.close();
    }

    @Test
    void work_triggered_on_one_replica_runs_on_a_worker_of_the_other_and_cancels_reach_it() throws Exception {
        try (DroverClient onA = TestServer.client(a.grpcPort()); DroverClient onB = TestServer.client(b.grpcPort())) {
            Worker worker = onA.newWorker("on-a").register(new Work()).slots(10).start();

            RunHandle run = onB.run("replica-wf", Map.of("mode", "quick"));
            RunInfo done = onB.awaitRun(run.runId(), Duration.ofSeconds(20));
            assertThat(done.status()).isEqualTo(RunStatus.SUCCEEDED);

            RunHandle longRun = onB.run("replica-wf", Map.of("mode", "long"));
            assertThat(longStarted.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(onB.cancel(longRun.runId())).isTrue();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!sawCancel.get() && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(sawCancel).as("the cancel reached the worker through the other replica").isTrue();
            worker.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void clients_and_workers_given_both_addresses_carry_on_when_one_replica_stops() throws Exception {
        Path dir = TestServer.tempDir("replica-c-");
        DroverServer c = server(dir, pg.jdbcUrl());
        List<String> both = List.of("127.0.0.1:" + c.grpcPort(), "127.0.0.1:" + b.grpcPort());
        try (DroverClient client = DroverClient.builder().addresses(both).token(TestServer.TOKEN).build()) {
            Worker worker = client.newWorker("both").register(new Work()).slots(10).start();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) ids.add(client.run("replica-wf", Map.of("mode", "quick")).runId());
            c.close(); // graceful stop of one replica while work is in flight
            for (int i = 0; i < 20; i++) ids.add(client.run("replica-wf", Map.of("mode", "quick")).runId());
            for (String id : ids) {
                assertThat(client.awaitRun(id, Duration.ofSeconds(30)).status()).as("run %s", id).isEqualTo(RunStatus.SUCCEEDED);
            }
            assertThat(ids).doesNotHaveDuplicates();
            worker.close(Duration.ofSeconds(5));
        }
    }
}
