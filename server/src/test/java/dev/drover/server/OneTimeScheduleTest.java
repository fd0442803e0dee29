package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.ScheduleInfo;
import dev.drover.sdk.ScheduleStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One-time schedules: fire at their instant (never before), once; reschedule and delete. */
class OneTimeScheduleTest {
    static DroverClient client;

    @BeforeAll
    static void setUp() {
        client = TestServer.client();
        ScheduleTestSupport.putWorkflow(TestServer.shared().grpcPort(), "at-wf");
    }

    private static ScheduleInfo awaitFinal(String id, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ScheduleInfo s = client.getSchedule(id);
        while (s.status() == ScheduleStatus.SCHEDULED && System.nanoTime() < deadline) {
            Thread.sleep(20);
            s = client.getSchedule(id);
        }
        return s;
    }

    @Test
    void schedules_fire_at_their_instant_never_early() throws Exception {
        Instant base = Instant.now().plusMillis(500);
        List<ScheduleInfo> created = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            created.add(client.schedule("at-wf", Map.of("i", i), base.plusMillis(i * 137L), Map.of("batch", "precision")));
        }
        List<Long> delays = new ArrayList<>();
        for (ScheduleInfo s : created) {
            ScheduleInfo fired = awaitFinal(s.id(), Duration.ofSeconds(15));
            assertThat(fired.status()).isEqualTo(ScheduleStatus.FIRED);
            RunInfo run = client.getRun(fired.runId());
            assertThat(run.metadata()).containsEntry("drover.schedule", s.id()).containsEntry("batch", "precision");
            assertThat(run.inputJson()).contains("\"i\"");
            // Both instants are the database's: fire_at as stored, created_at of the run.
            long ms = Duration.between(fired.fireAt(), run.createdAt()).toMillis();
            assertThat(run.createdAt()).as("run of schedule %s", s.id()).isAfterOrEqualTo(fired.fireAt());
            delays.add(ms);
        }
        delays.sort(null);
        long p50 = ScheduleTestSupport.percentile(delays, 0.5);
        long max = delays.get(delays.size() - 1);
        System.out.printf("one-time schedules: %d fired; fire_at -> run created: p50 %d ms, p90 %d ms, max %d ms%n",
                delays.size(), p50, ScheduleTestSupport.percentile(delays, 0.9), max);
        assertThat(max).as("worst delay (ms)").isLessThan(500);
        // Exactly one run per schedule.
        long runs = client.listRuns("at-wf", null, 1000).stream()
                .filter(r -> "precision".equals(r.metadata().get("batch"))).count();
        assertThat(runs).isEqualTo(20);
    }

    @Test
    void a_schedule_can_be_moved_and_deleted_until_it_fires() throws Exception {
        ScheduleInfo later = client.schedule("at-wf", Map.of("k", "moved"), Instant.now().plus(Duration.ofHours(1)));
        assertThat(later.status()).isEqualTo(ScheduleStatus.SCHEDULED);
        Instant soon = Instant.now().plusMillis(300);
        ScheduleInfo moved = client.reschedule(later.id(), soon);
        assertThat(moved.fireAt()).isEqualTo(Instant.ofEpochMilli(soon.toEpochMilli()));

        ScheduleInfo deleted = client.schedule("at-wf", Map.of("k", "deleted"), Instant.now().plusMillis(400));
        client.deleteSchedule(deleted.id());
        ScheduleInfo delayed = client.schedule("at-wf", Map.of("k", "delayed"), Duration.ofMillis(200));

        ScheduleInfo fired = awaitFinal(later.id(), Duration.ofSeconds(10));
        assertThat(fired.status()).isEqualTo(ScheduleStatus.FIRED);
        assertThat(fired.runId()).isNotNull();
        assertThat(awaitFinal(delayed.id(), Duration.ofSeconds(10)).status()).isEqualTo(ScheduleStatus.FIRED);
        Thread.sleep(1_000); // well past the deleted one's instant
        ScheduleInfo gone = client.getSchedule(deleted.id());
        assertThat(gone.status()).isEqualTo(ScheduleStatus.CANCELLED);
        assertThat(gone.runId()).isNull();
        assertThat(client.listRuns("at-wf", null, 1000)).noneMatch(r -> deleted.id().equals(r.metadata().get("drover.schedule")));

        assertThatThrownBy(() -> client.reschedule(later.id(), Instant.now().plusSeconds(60)))
                .isInstanceOfSatisfying(DroverException.class, e -> {
                    assertThat(e.code()).isEqualTo(DroverException.Code.FAILED_PRECONDITION);
                    assertThat(e.getMessage()).contains("already fired");
                });
        assertThatThrownBy(() -> client.deleteSchedule(later.id()))
                .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.FAILED_PRECONDITION));
        assertThatThrownBy(() -> client.reschedule(deleted.id(), Instant.now().plusSeconds(60)))
                .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.FAILED_PRECONDITION));

        assertThat(client.listSchedules("at-wf", ScheduleStatus.CANCELLED, 100)).extracting(ScheduleInfo::id).contains(deleted.id());
        assertThat(client.listSchedules("at-wf", ScheduleStatus.SCHEDULED, 100)).extracting(ScheduleInfo::id)
                .doesNotContain(deleted.id(), later.id());
    }

    @Test
    void bad_schedules_are_refused_naming_the_field() {
        assertThatThrownBy(() -> client.schedule("no-such-workflow", Map.of(), Instant.now().plusSeconds(5)))
                .isInstanceOfSatisfying(DroverException.class, e -> {
                    assertThat(e.code()).isEqualTo(DroverException.Code.NOT_FOUND);
                    assertThat(e.getMessage()).startsWith("workflow_name:");
                });
        assertThatThrownBy(() -> client.schedule("at-wf", Map.of(), Instant.ofEpochMilli(Long.MAX_VALUE / 2)))
                .isInstanceOfSatisfying(DroverException.class, e -> {
                    assertThat(e.code()).isEqualTo(DroverException.Code.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).startsWith("fire_at_ms:");
                });
        assertThatThrownBy(() -> client.getSchedule("not-an-id"))
                .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.getMessage()).startsWith("schedule_id:"));
    }

    @Test
    void a_retried_create_with_the_same_schedule_id_creates_one_schedule() throws Exception {
        io.grpc.ManagedChannel ch = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forAddress("127.0.0.1", TestServer.shared().grpcPort()).usePlaintext().build();
        try {
            io.grpc.Metadata auth = new io.grpc.Metadata();
            auth.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TestServer.TOKEN);
            var stub = dev.drover.proto.v1.ScheduleServiceGrpc.newBlockingStub(ch)
                    .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(auth));
            String id = java.util.UUID.randomUUID().toString();
            var req = dev.drover.proto.v1.CreateScheduleRequest.newBuilder().setWorkflowName("at-wf")
                    .setDelayMs(3_600_000).setScheduleId(id).build();
            var first = stub.createSchedule(req);
            // The client timed out and sends the very same request again (the SDK does this by itself).
            var second = stub.createSchedule(req);
            assertThat(first.getId()).isEqualTo(id);
            assertThat(second.getId()).isEqualTo(id);
            assertThat(second.getFireAtMs()).isEqualTo(first.getFireAtMs());
            long mine = client.listSchedules("at-wf", null, 1000).stream().filter(s -> s.id().equals(id)).count();
            assertThat(mine).isEqualTo(1);
            assertThatThrownBy(() -> stub.createSchedule(req.toBuilder().setScheduleId("not-a-uuid").build()))
                    .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("schedule_id");
            client.deleteSchedule(id);
        } finally {
            ch.shutdownNow();
        }
    }
}
