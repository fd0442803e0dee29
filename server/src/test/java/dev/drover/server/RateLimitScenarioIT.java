package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunHandle;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunRequest;
import dev.drover.sdk.RunStatus;
import dev.drover.server.store.EmbeddedPostgresLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The rate-limit scenario of the flow-control issue: 4 worker processes and 2 server replicas on one
 * database share a limit of 50 calls per second. Each step reports when it started; per 1-second
 * window that count never exceeds 50, and the limit is used to at least 90%.
 *
 * <p>Why counting the steps' own start instants is sound: units are taken on the database clock at
 * claim time, and a step starts a few milliseconds later. A step handed out at the very end of window
 * N could start in window N+1, on top of N+1's full 50; the limiter therefore hands out nothing in the
 * last fifth of a window (200 ms for 1 s windows, see RateLimitPolicy), more than the claim-to-start
 * delay even on a loaded machine (printed below). Everything runs on one machine, so the database and
 * the workers read the same clock.
 */
class RateLimitScenarioIT {
    static final int LIMIT = 50;
    static final int RUNS = 450; // about 9 windows

    @Test
    @Timeout(120)
    void fourWorkerProcessesAndTwoReplicasNeverExceedTheLimitAndUseIt() throws Exception {
        Path dir = TestServer.tempDir("rl-scenario-");
        Path markers = Files.createDirectories(dir.resolve("markers"));
        List<Process> procs = new ArrayList<>();
        try (EmbeddedPostgresLauncher pg = EmbeddedPostgresLauncher.start(dir.resolve("db"), 0);
             DroverServer a = ReplicasTest.server(dir.resolve("a"), pg.jdbcUrl());
             DroverServer b = ReplicasTest.server(dir.resolve("b"), pg.jdbcUrl());
             DroverClient onA = TestServer.client(a.grpcPort());
             DroverClient onB = TestServer.client(b.grpcPort())) {
            onA.putRateLimit("rl-scenario-api", LIMIT, Duration.ofSeconds(1));
            for (int i = 0; i < 4; i++) {
                int port = i % 2 == 0 ? a.grpcPort() : b.grpcPort();
                procs.add(TestServer.spawn(RateLimitScenarioWorker.class, Map.of("DROVER_ADDRESS", "127.0.0.1:" + port,
                        "DROVER_TOKEN", TestServer.TOKEN, "MARKER_DIR", markers.toString(), "SLOTS", "10"),
                        dir.resolve("worker-" + i + ".log")));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (readyWorkers(markers) < 4) {
                assertThat(System.nanoTime()).as("4 worker processes registered").isLessThan(deadline);
                Thread.sleep(100);
            }

            // A few runs first, so that the measured ones see warm JVMs (JIT, connection pools) on 2 busy cores.
            TreeMap<Long, Integer> perWindow = new TreeMap<>();
            List<RunRequest> warmUp = new ArrayList<>();
            for (int i = 0; i < 20; i++) warmUp.add(RunRequest.of("rl-scenario", Map.of("warm-up", i)));
            for (RunHandle h : onB.runMany(warmUp)) {
                RunInfo r = h.await(Duration.ofSeconds(60));
                assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
                perWindow.merge(r.output(Long.class) / 1000, 1, Integer::sum);
            }

            // Half the runs through each replica.
            List<RunRequest> half = new ArrayList<>();
            for (int i = 0; i < RUNS / 2; i++) half.add(RunRequest.of("rl-scenario", Map.of("i", i)));
            List<RunHandle> handles = new ArrayList<>(onA.runMany(half));
            handles.addAll(onB.runMany(half));

            TreeMap<Long, Integer> measured = new TreeMap<>();
            long latestInWindow = 0;
            List<Long> delays = new ArrayList<>();
            for (RunHandle h : handles) {
                RunInfo r = h.await(Duration.ofSeconds(60));
                assertThat(r.status()).isEqualTo(RunStatus.SUCCEEDED);
                long started = r.output(Long.class);
                perWindow.merge(started / 1000, 1, Integer::sum);
                measured.merge(started / 1000, 1, Integer::sum);
                latestInWindow = Math.max(latestInWindow, started % 1000);
                // The step's started_at is the claim transaction's start on the database clock.
                delays.add(started - r.steps().get(0).startedAt().toEpochMilli());
            }
            delays.sort(null);
            int max = perWindow.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
            // Throughput over the full windows (the first and last are partial: the backlog starts and ends in them).
            List<Integer> full = new ArrayList<>(measured.values()).subList(1, measured.size() - 1);
            double throughput = full.stream().mapToInt(Integer::intValue).average().orElse(0);
            long span = measured.lastKey() - measured.firstKey() + 1;
            System.out.printf("rate-limit scenario: limit %d/s, 4 worker processes, 2 replicas, %d runs over %d windows;"
                            + " starts per 1-second window %s; max %d; throughput over the %d full windows %.1f/s (%.0f%% of"
                            + " the limit); latest start %d ms into its window; from claim transaction to step start p50 %d ms,"
                            + " p99 %d ms, max %d ms%n", LIMIT, RUNS, span, measured.values(), max, full.size(), throughput,
                    throughput * 100 / LIMIT, latestInWindow, delays.get(delays.size() / 2),
                    delays.get((int) Math.ceil(delays.size() * 0.99) - 1), delays.get(delays.size() - 1));
            assertThat(perWindow.values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(LIMIT));
            assertThat(span).as("windows with no start in between").isEqualTo(measured.size());
            assertThat(throughput).isGreaterThanOrEqualTo(0.9 * LIMIT);
        } finally {
            for (Process p : procs) p.destroy();
            for (Process p : procs) if (!p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    private static long readyWorkers(Path markers) throws java.io.IOException {
        try (Stream<Path> s = Files.list(markers)) {
            return s.filter(p -> p.getFileName().toString().startsWith("worker-ready-")).count();
        }
    }
}
