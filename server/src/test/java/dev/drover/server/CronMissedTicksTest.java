package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.sdk.CronInfo;
import dev.drover.sdk.CronRequest;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.MissedTicks;
import dev.drover.sdk.RunInfo;
import dev.drover.server.store.EmbeddedPostgresLauncher;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Ticks that pass while no server runs: {@code fire_once} starts one run for the latest of them on
 * recovery, {@code skip} none, and neither fires a burst of old ticks.
 */
class CronMissedTicksTest {

    @Test
    void ticks_missed_while_every_server_was_down_follow_the_cron_policy() throws Exception {
        Path dir = TestServer.tempDir("cron-missed-");
        try (EmbeddedPostgresLauncher pg = EmbeddedPostgresLauncher.start(dir.resolve("db"), 0)) {
            DroverServer server = ScheduleTestSupport.server(dir.resolve("s"), pg.jdbcUrl());
            CronInfo once;
            CronInfo skip;
            CronInfo everySecond;
            try (DroverClient c = TestServer.client(server.grpcPort())) {
                ScheduleTestSupport.putWorkflow(server.grpcPort(), "missed-wf");
                once = c.createCron(CronRequest.of("missed-wf", "*/15 * * * * *").withName("once"));
                skip = c.createCron(CronRequest.of("missed-wf", "*/15 * * * * *").withName("skip")
                        .withMissedTicks(MissedTicks.SKIP));
                everySecond = c.createCron(CronRequest.of("missed-wf", "* * * * * *").withName("every-second"));
                assertThat(skip.missedTicks()).isEqualTo(MissedTicks.SKIP);
                assertThat(once.missedTicks()).isEqualTo(MissedTicks.FIRE_ONCE);
            }
            // The tick every server will miss: at least 3 s ahead, so the crons are running before the stop.
            Instant missed = once.nextFireAt();
            if (Duration.between(Instant.now(), missed).toMillis() < 3_000) missed = missed.plusSeconds(15);

            ScheduleTestSupport.sleepUntil(missed.minusSeconds(2));
            server.close();
            Instant down = Instant.now();
            ScheduleTestSupport.sleepUntil(missed.plusSeconds(6)); // 6 s late: more than the 5 s of lateness still fired
            Instant restart = Instant.now();
            server = ScheduleTestSupport.server(dir.resolve("s"), pg.jdbcUrl());
            try (DroverClient c = TestServer.client(server.grpcPort())) {
                ScheduleTestSupport.sleepUntil(missed.plusSeconds(12)); // before the next quarter-minute tick
                TreeMap<Instant, Integer> byOnce = ticksOf(c, once.id());
                TreeMap<Instant, Integer> bySkip = ticksOf(c, skip.id());
                assertThat(byOnce).as("fire_once: one catch-up run for the missed tick").containsEntry(missed, 1);
                assertThat(bySkip).as("skip: no run for the missed tick").doesNotContainKey(missed);
                assertThat(c.getCron(skip.id()).nextFireAt()).isEqualTo(missed.plusSeconds(15));
                assertThat(c.getCron(once.id()).lastTick()).isEqualTo(missed);

                // The one-second cron: after the outage, no old ticks in a burst, then one run per tick again.
                NavigableMap<Instant, Integer> after = ticksOf(c, everySecond.id()).tailMap(down, false);
                assertThat(after).isNotEmpty();
                assertThat(after.firstKey()).as("first tick fired after the outage").isAfter(restart.minusSeconds(1));
                assertThat(after.values()).containsOnly(1);
                assertThat(after.size()).as("contiguous ticks after recovery")
                        .isEqualTo(Duration.between(after.firstKey(), after.lastKey()).toSeconds() + 1);
                System.out.printf("missed ticks: outage %s..%s; fire_once caught up tick %s; every-second cron resumed at %s%n",
                        down, restart, missed, after.firstKey());
            } finally {
                server.close();
            }
        }
    }

    private static TreeMap<Instant, Integer> ticksOf(DroverClient c, String cronId) {
        TreeMap<Instant, Integer> out = new TreeMap<>();
        List<RunInfo> runs = c.listRuns("missed-wf", null, 1000);
        for (RunInfo r : runs) {
            if (cronId.equals(r.metadata().get("drover.cron"))) out.merge(Instant.parse(r.metadata().get("drover.tick")), 1, Integer::sum);
        }
        return out;
    }
}
