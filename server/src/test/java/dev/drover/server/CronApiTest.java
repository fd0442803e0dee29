package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.CronSchedule;
import dev.drover.sdk.Cron;
import dev.drover.sdk.CronInfo;
import dev.drover.sdk.CronRequest;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import dev.drover.sdk.MissedTicks;
import dev.drover.sdk.RunInfo;
import dev.drover.sdk.RunStatus;
import dev.drover.sdk.Step;
import dev.drover.sdk.Worker;
import dev.drover.sdk.Workflow;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Crons through the API: pause and resume, crons declared by workflows, and refusals that name the field. */
class CronApiTest {
    static DroverClient client;
    static final HttpClient http = HttpClient.newHttpClient();

    @Workflow(name = "cron-declared", version = "1")
    @Cron(value = "* * * * * *", name = "every-second", input = "{\"from\":\"annotation\"}", missedTicks = MissedTicks.SKIP)
    @Cron(value = "0 7 * * MON-FRI", timeZone = "Europe/Berlin")
    public static class Declared {
        @Step(name = "tick")
        public String tick(Map<String, String> in) {
            return in.get("from");
        }
    }

    @BeforeAll
    static void setUp() {
        client = TestServer.client();
        ScheduleTestSupport.putWorkflow(TestServer.shared().grpcPort(), "cron-api");
    }

    private static Instant dbNowApprox() {
        return Instant.now(); // the embedded database runs on this machine's clock
    }

    @Test
    void a_paused_cron_fires_nothing_and_resumes_from_now() throws Exception {
        CronInfo cron = client.createCron(CronRequest.of("cron-api", "* * * * * *").withName("pausable")
                .withInput(Map.of("n", 1)).withMetadata(Map.of("team", "ops")));
        assertThat(cron.paused()).isFalse();
        assertThat(cron.declaredByWorkflow()).isFalse();
        assertThat(cron.nextFireAt()).isAfter(dbNowApprox().minusSeconds(1));
        Thread.sleep(2_500);
        CronInfo paused = client.pauseCron(cron.id());
        Instant pausedAt = dbNowApprox();
        assertThat(paused.paused()).isTrue();
        assertThat(paused.nextFireAt()).isNull();
        assertThat(client.pauseCron(cron.id()).paused()).as("pausing twice is harmless").isTrue();
        int before = ticks(cron.id()).size();
        assertThat(before).isGreaterThanOrEqualTo(2);

        Thread.sleep(2_500);
        assertThat(ticks(cron.id())).as("no tick fires while paused").hasSize(before);
        CronInfo resumed = client.resumeCron(cron.id());
        Instant resumedAt = dbNowApprox();
        assertThat(resumed.paused()).isFalse();
        assertThat(resumed.nextFireAt()).isAfter(resumedAt.minusSeconds(1));
        Thread.sleep(2_200);
        client.pauseCron(cron.id());
        TreeMap<Instant, Integer> ticks = ticks(cron.id());
        assertThat(ticks.size()).isGreaterThan(before);
        assertThat(ticks.subMap(pausedAt.plusSeconds(1), resumedAt.minusSeconds(1))).as("ticks of the paused period").isEmpty();
        assertThat(ticks.values()).containsOnly(1);

        RunInfo run = client.getRun(client.getCron(cron.id()).lastRunId());
        assertThat(run.inputJson()).contains("\"n\"");
        assertThat(run.metadata()).containsEntry("team", "ops").containsEntry("drover.cron_name", "pausable");
        assertThat(client.listCrons("cron-api")).extracting(CronInfo::id).contains(cron.id());

        client.deleteCron(cron.id());
        assertThatThrownBy(() -> client.getCron(cron.id()))
                .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.NOT_FOUND));
    }

    private static TreeMap<Instant, Integer> ticks(String cronId) {
        TreeMap<Instant, Integer> out = new TreeMap<>();
        for (RunInfo r : client.listRuns("cron-api", null, 1000)) {
            if (cronId.equals(r.metadata().get("drover.cron"))) out.merge(Instant.parse(r.metadata().get("drover.tick")), 1, Integer::sum);
        }
        return out;
    }

    @Test
    void crons_declared_on_a_workflow_class_run_and_follow_the_definition() throws Exception {
        try (Worker worker = client.newWorker("cron-declared").register(new Declared()).slots(4).start()) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            RunInfo done = null;
            while (done == null && System.nanoTime() < deadline) {
                for (RunInfo r : client.listRuns("cron-declared", RunStatus.SUCCEEDED, 10)) done = r;
                Thread.sleep(100);
            }
            assertThat(done).as("a run started by the declared cron succeeded").isNotNull();
            assertThat(done.outputJson()).isEqualTo("\"annotation\"");
            assertThat(client.listCrons("cron-declared"))
                    .extracting(CronInfo::name, CronInfo::timeZone, CronInfo::missedTicks, CronInfo::declaredByWorkflow)
                    .containsExactlyInAnyOrder(
                            org.assertj.core.groups.Tuple.tuple("0 7 * * MON-FRI Europe/Berlin", "Europe/Berlin", MissedTicks.FIRE_ONCE, true),
                            org.assertj.core.groups.Tuple.tuple("every-second", "UTC", MissedTicks.SKIP, true));
            CronInfo declared = client.listCrons("cron-declared").stream().filter(c -> c.name().equals("every-second")).findFirst().orElseThrow();
            assertThatThrownBy(() -> client.deleteCron(declared.id()))
                    .isInstanceOfSatisfying(DroverException.class, e -> {
                        assertThat(e.code()).isEqualTo(DroverException.Code.FAILED_PRECONDITION);
                        assertThat(e.getMessage()).contains("declared by workflow");
                    });
            worker.close(Duration.ofSeconds(5));
        }
        // A cron created through the API survives re-registrations; a declared cron that disappeared goes.
        CronInfo api = client.createCron(CronRequest.of("cron-declared", "0 0 1 1 *").withName("api-made"));
        ScheduleTestSupport.putWorkflow(TestServer.shared().grpcPort(), "cron-declared",
                CronSchedule.newBuilder().setExpression("0 7 * * MON-FRI").setTimeZone("Europe/Berlin").build());
        assertThat(client.listCrons("cron-declared")).extracting(CronInfo::name)
                .containsExactlyInAnyOrder("0 7 * * MON-FRI Europe/Berlin", "api-made");
        client.deleteCron(api.id());
        ScheduleTestSupport.putWorkflow(TestServer.shared().grpcPort(), "cron-declared");
        assertThat(client.listCrons("cron-declared")).isEmpty();
    }

    @Test
    void bad_crons_are_refused_naming_the_field() {
        assertInvalid(CronRequest.of("cron-api", "61 * * * *"), DroverException.Code.INVALID_ARGUMENT, "expression:");
        assertInvalid(CronRequest.of("cron-api", "* * *"), DroverException.Code.INVALID_ARGUMENT, "expression:");
        assertInvalid(CronRequest.of("cron-api", "0 0 30 2 *"), DroverException.Code.INVALID_ARGUMENT, "expression:");
        assertInvalid(CronRequest.of("cron-api", "0 7 * * *").withTimeZone("Mars/Olympus"), DroverException.Code.INVALID_ARGUMENT,
                "time_zone:");
        assertInvalid(CronRequest.of("no-such-workflow", "0 7 * * *"), DroverException.Code.NOT_FOUND, "workflow_name:");
        assertInvalid(CronRequest.of("cron-api", "0 7 * * *").withMetadata(Map.of("drover.cron", "x")),
                DroverException.Code.INVALID_ARGUMENT, "metadata.drover.cron:");
        client.createCron(CronRequest.of("cron-api", "0 7 * * *").withName("twice"));
        assertInvalid(CronRequest.of("cron-api", "0 8 * * *").withName("twice"), DroverException.Code.FAILED_PRECONDITION, "name:");

        // A workflow declaring a bad cron is not registered at all.
        assertThatThrownBy(() -> ScheduleTestSupport.putWorkflow(TestServer.shared().grpcPort(), "cron-bad-declared",
                CronSchedule.newBuilder().setExpression("0 7 * * *").build(),
                CronSchedule.newBuilder().setExpression("0 7 * * *").setTimeZone("Nowhere/Else").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("crons[1].time_zone:");
                });
        assertThatThrownBy(() -> client.run("cron-bad-declared", Map.of()))
                .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.NOT_FOUND));
    }

    private static void assertInvalid(CronRequest req, DroverException.Code code, String prefix) {
        assertThatThrownBy(() -> client.createCron(req)).isInstanceOfSatisfying(DroverException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).startsWith(prefix);
        });
    }

    @Test
    void the_http_api_manages_crons_and_schedules() throws Exception {
        HttpResponse<String> bad = post("/api/v1/crons", "{\"workflow\":\"cron-api\",\"expression\":\"not a cron\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"error\":\"expression:");
        HttpResponse<String> badZone = post("/api/v1/crons", "{\"workflow\":\"cron-api\",\"expression\":\"0 7 * * *\",\"timeZone\":\"X/Y\"}");
        assertThat(badZone.statusCode()).isEqualTo(400);
        assertThat(badZone.body()).contains("\"error\":\"time_zone:");
        assertThat(post("/api/v1/crons", "{\"workflow\":\"nope\",\"expression\":\"0 7 * * *\"}").statusCode()).isEqualTo(404);
        assertThat(post("/api/v1/crons", "{\"expression\":\"0 7 * * *\"}").body()).contains("workflow: required");

        HttpResponse<String> created = post("/api/v1/crons",
                "{\"workflow\":\"cron-api\",\"name\":\"http\",\"expression\":\"0 7 * * *\",\"timeZone\":\"Europe/Berlin\",\"input\":{\"a\":1}}");
        assertThat(created.statusCode()).isEqualTo(201);
        String id = field(created.body(), "id");
        assertThat(created.body()).contains("\"nextFireAt\":\"").contains("\"input\":{\"a\":1}");
        assertThat(post("/api/v1/crons/" + id + "/pause", "").body()).contains("\"paused\":true");
        assertThat(post("/api/v1/crons/" + id + "/resume", "").body()).contains("\"paused\":false");
        assertThat(send("GET", "/api/v1/crons?workflow=cron-api", null).body()).contains(id);
        assertThat(send("DELETE", "/api/v1/crons/" + id, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/api/v1/crons/" + id, null).statusCode()).isEqualTo(404);

        HttpResponse<String> badAt = post("/api/v1/schedules", "{\"workflow\":\"cron-api\",\"fireAt\":\"tomorrow\"}");
        assertThat(badAt.statusCode()).isEqualTo(400);
        assertThat(badAt.body()).contains("fireAt:");
        assertThat(post("/api/v1/schedules", "{\"workflow\":\"cron-api\"}").body()).contains("fire_at_ms:");
        HttpResponse<String> sched = post("/api/v1/schedules", "{\"workflow\":\"cron-api\",\"fireAt\":\"2099-01-01T00:00:00Z\"}");
        assertThat(sched.statusCode()).isEqualTo(201);
        String sid = field(sched.body(), "id");
        HttpResponse<String> moved = post("/api/v1/schedules/" + sid + "/reschedule", "{\"delayMs\":100}");
        assertThat(moved.statusCode()).isEqualTo(200);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        String body = "";
        while (System.nanoTime() < deadline && !body.contains("\"status\":\"fired\"")) {
            body = send("GET", "/api/v1/schedules/" + sid, null).body();
            Thread.sleep(50);
        }
        assertThat(body).contains("\"status\":\"fired\"").contains("\"runId\":\"");
        assertThat(send("DELETE", "/api/v1/schedules/" + sid, null).statusCode()).isEqualTo(409);
        assertThat(send("GET", "/api/v1/schedules?workflow=cron-api&status=fired", null).body()).contains(sid);
        assertThat(send("GET", "/api/v1/schedules?status=bogus", null).statusCode()).isEqualTo(400);
    }

    private static String field(String json, String name) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get(name).asText();
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return send("POST", path, body);
    }

    private static HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + TestServer.shared().httpPort() + path))
                .header("Authorization", "Bearer " + TestServer.TOKEN)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
