package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.sdk.CronInfo;
import dev.drover.sdk.CronRequest;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.RunInfo;
import dev.drover.server.store.EmbeddedPostgresLauncher;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A one-second cron on two replicas of one database: every tick fires exactly once, also while each
 * replica in turn is restarted.
 */
class CronReplicasTest {

    @Test
    void two_replicas_fire_each_tick_exactly_once_across_restarts() throws Exception {
        Path dir = TestServer.tempDir("cron-replicas-");
        try (EmbeddedPostgresLauncher pg = EmbeddedPostgresLauncher.start(dir.resolve("db"), 0)) {
            DroverServer a = ScheduleTestSupport.server(dir.resolve("a"), pg.jdbcUrl());
            DroverServer b = ScheduleTestSupport.server(dir.resolve("b"), pg.jdbcUrl());
            try {
                ScheduleTestSupport.putWorkflow(a.grpcPort(), "cron-replicas");
                CronInfo cron;
                try (DroverClient onB = TestServer.client(b.grpcPort())) {
                    cron = onB.createCron(CronRequest.of("cron-replicas", "* * * * * *").withName("every-second"));
                }
                Instant first = cron.nextFireAt();
                Thread.sleep(7_000);
                a.close(); // restart A while B goes on
                a = ScheduleTestSupport.server(dir.resolve("a"), pg.jdbcUrl());
                Thread.sleep(5_000);
                b.close(); // then B while A goes on
                b = ScheduleTestSupport.server(dir.resolve("b"), pg.jdbcUrl());
                ScheduleTestSupport.sleepUntil(first.plusSeconds(21).plusMillis(500));

                try (DroverClient onA = TestServer.client(a.grpcPort())) {
                    onA.pauseCron(cron.id());
                    TreeMap<Instant, Integer> perTick = ScheduleTestSupport.runsPerTick(onA, "cron-replicas");
                    assertThat(perTick.firstKey()).isEqualTo(first);
                    Instant last = perTick.lastKey();
                    assertThat(Duration.between(first, last).toSeconds()).as("ticks fired").isGreaterThanOrEqualTo(20);
                    List<Instant> lost = new ArrayList<>();
                    for (Instant t = first; !t.isAfter(last); t = t.plusSeconds(1)) {
                        if (!perTick.containsKey(t)) lost.add(t);
                    }
                    assertThat(lost).as("ticks that never fired").isEmpty();
                    assertThat(perTick.values()).as("runs per tick").containsOnly(1);

                    // How late each tick's run was created, on the database clock.
                    List<Long> lateness = new ArrayList<>();
                    for (RunInfo r : onA.listRuns("cron-replicas", null, 1000)) {
                        Instant tick = Instant.parse(r.metadata().get("drover.tick"));
                        long ms = Duration.between(tick, r.createdAt()).toMillis();
                        assertThat(ms).as("run of tick %s created before its tick", tick).isGreaterThanOrEqualTo(0);
                        lateness.add(ms);
                        assertThat(r.metadata()).containsEntry("drover.cron", cron.id());
                    }
                    lateness.sort(null);
                    System.out.printf("cron on 2 replicas: %d ticks, %d runs; tick -> run created: p50 %d ms, p90 %d ms, max %d ms%n",
                            perTick.size(), lateness.size(), ScheduleTestSupport.percentile(lateness, 0.5),
                            ScheduleTestSupport.percentile(lateness, 0.9), lateness.get(lateness.size() - 1));
                    CronInfo after = onA.getCron(cron.id());
                    assertThat(after.lastTick()).isEqualTo(last);
                    assertThat(after.paused()).isTrue();
                }
            } finally {
                b.close();
                a.close();
            }
        }
    }
}
