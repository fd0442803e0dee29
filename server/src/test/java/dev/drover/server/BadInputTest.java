package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.RunServiceGrpc;
import dev.drover.proto.v1.TriggerRunRequest;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.sdk.DroverClient;
import dev.drover.sdk.DroverException;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input gets a clear error naming the problem (gRPC status / HTTP 4xx), and creates nothing. */
class BadInputTest {
    static DroverServer server;
    static ManagedChannel channel;
    static HttpClient http = HttpClient.newHttpClient();
    static final String WF = "bad-input-wf";

    @BeforeAll
    static void setUp() {
        server = TestServer.shared();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        stub(TestServer.TOKEN).putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(WorkflowDefinition.newBuilder()
                .setName(WF).setVersion("1").addSteps(StepDefinition.newBuilder().setName("only"))).build());
    }

    @AfterAll
    static void tearDown() {
        channel.shutdownNow();
    }

    static RunServiceGrpc.RunServiceBlockingStub stub(String token) {
        RunServiceGrpc.RunServiceBlockingStub s = RunServiceGrpc.newBlockingStub(channel);
        if (token == null) return s;
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    static int runCount() {
        return stub(TestServer.TOKEN).listRuns(dev.drover.proto.v1.ListRunsRequest.newBuilder()
                .setWorkflowName(WF).setLimit(1000).build()).getRunsCount();
    }

    @Test
    void unknown_workflow_is_not_found_and_names_the_field() {
        int before = runCount();
        assertThatThrownBy(() -> stub(TestServer.TOKEN).triggerRun(TriggerRunRequest.newBuilder().setWorkflowName("no-such").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("workflow_name").contains("no-such");
                });
        assertThat(runCount()).isEqualTo(before);
    }

    @Test
    void a_batch_naming_one_run_id_twice_is_invalid_argument_and_creates_nothing() {
        int before = runCount();
        String id = "0190a0b0-0000-7000-8000-" + String.format("%012x", System.nanoTime() & 0xFFFFFFFFFFFFL);
        TriggerRunRequest one = TriggerRunRequest.newBuilder().setWorkflowName(WF).setRunId(id).build();
        assertThatThrownBy(() -> stub(TestServer.TOKEN).triggerRuns(dev.drover.proto.v1.TriggerRunsRequest.newBuilder()
                .addRuns(TriggerRunRequest.newBuilder().setWorkflowName(WF)).addRuns(one).addRuns(one).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("runs[2].run_id:").contains("runs[1]");
                });
        assertThat(runCount()).isEqualTo(before);
    }

    @Test
    void malformed_json_input_is_invalid_argument() {
        int before = runCount();
        assertThatThrownBy(() -> stub(TestServer.TOKEN).triggerRun(TriggerRunRequest.newBuilder()
                .setWorkflowName(WF).setInputJson("{\"total\": ").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("input_json:");
                });
        assertThat(runCount()).isEqualTo(before);
    }

    @Test
    void an_input_over_the_payload_limit_is_rejected_naming_the_limit() {
        int before = runCount();
        String big = "{\"blob\":\"" + "x".repeat(4 * 1024 * 1024 + 10) + "\"}";
        assertThatThrownBy(() -> stub(TestServer.TOKEN).triggerRun(TriggerRunRequest.newBuilder()
                .setWorkflowName(WF).setInputJson(big).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("input_json:").contains("DROVER_MAX_PAYLOAD");
                });
        assertThat(runCount()).isEqualTo(before);
    }

    @Test
    void missing_and_wrong_tokens_are_unauthenticated() {
        int before = runCount();
        TriggerRunRequest req = TriggerRunRequest.newBuilder().setWorkflowName(WF).build();
        assertThatThrownBy(() -> stub(null).triggerRun(req)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        assertThatThrownBy(() -> stub("wrong-token-xxxxxxxxxxxx").triggerRun(req)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                    assertThat(e.getStatus().getDescription()).contains("invalid token");
                });
        assertThat(runCount()).isEqualTo(before);
    }

    @Test
    void the_sdk_reports_bad_input_as_a_typed_error() {
        try (DroverClient c = TestServer.client()) {
            assertThatThrownBy(() -> c.runJson("no-such", "{}", dev.drover.sdk.RunOptions.defaults()))
                    .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.NOT_FOUND));
            assertThatThrownBy(() -> c.getRun("not-a-uuid"))
                    .isInstanceOfSatisfying(DroverException.class, e -> {
                        assertThat(e.code()).isEqualTo(DroverException.Code.INVALID_ARGUMENT);
                        assertThat(e.getMessage()).contains("run_id");
                    });
        }
    }

    @Test
    void an_invalid_workflow_definition_is_rejected_with_the_field() {
        WorkflowDefinition cyclic = WorkflowDefinition.newBuilder().setName("cyclic").setVersion("1")
                .addSteps(StepDefinition.newBuilder().setName("a").addParents("b"))
                .addSteps(StepDefinition.newBuilder().setName("b").addParents("a")).build();
        assertThatThrownBy(() -> stub(TestServer.TOKEN).putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(cyclic).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("cycle");
                });
    }

    // ---- HTTP ----

    static HttpResponse<String> post(String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        if (token != null) b.header("Authorization", "Bearer " + token);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path)).GET();
        if (token != null) b.header("Authorization", "Bearer " + token);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void http_health_and_readiness_need_no_token() throws Exception {
        assertThat(get("/healthz", null).statusCode()).isEqualTo(200);
        assertThat(get("/readyz", null).statusCode()).isEqualTo(200);
    }

    @Test
    void http_bad_requests_get_4xx_with_a_message() throws Exception {
        int before = runCount();
        var noToken = post("/api/v1/runs", "{\"workflow\":\"" + WF + "\"}", null);
        assertThat(noToken.statusCode()).isEqualTo(401);
        assertThat(noToken.body()).contains("Authorization");
        assertThat(post("/api/v1/runs", "{\"workflow\":\"" + WF + "\"}", "wrong-token-xxxxxxxxxx").statusCode()).isEqualTo(401);

        var malformed = post("/api/v1/runs", "{\"workflow\": ", TestServer.TOKEN);
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(malformed.body()).contains("not valid JSON");

        var noWorkflow = post("/api/v1/runs", "{\"input\": {}}", TestServer.TOKEN);
        assertThat(noWorkflow.statusCode()).isEqualTo(400);
        assertThat(noWorkflow.body()).contains("workflow");

        var unknown = post("/api/v1/runs", "{\"workflow\":\"no-such\"}", TestServer.TOKEN);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("no-such");

        var badId = get("/api/v1/runs/not-a-uuid", TestServer.TOKEN);
        assertThat(badId.statusCode()).isEqualTo(400);
        assertThat(badId.body()).contains("run_id");
        assertThat(runCount()).isEqualTo(before);
    }

    @Test
    void http_trigger_get_and_cancel_work() throws Exception {
        var created = post("/api/v1/runs", "{\"workflow\":\"" + WF + "\",\"input\":{\"a\":1},\"metadata\":{\"k\":\"v\"},"
                + "\"idempotencyKey\":\"http-1\"}", TestServer.TOKEN);
        assertThat(created.statusCode()).isEqualTo(201);
        String id = new com.fasterxml.jackson.databind.ObjectMapper().readTree(created.body()).get("runId").asText();
        var again = post("/api/v1/runs", "{\"workflow\":\"" + WF + "\",\"idempotencyKey\":\"http-1\"}", TestServer.TOKEN);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.body()).contains(id).contains("\"created\":false");

        var run = get("/api/v1/runs/" + id, TestServer.TOKEN);
        assertThat(run.statusCode()).isEqualTo(200);
        assertThat(run.body()).contains("\"status\":\"queued\"").contains("\"k\":\"v\"").contains("\"name\":\"only\"");

        var cancel = post("/api/v1/runs/" + id + "/cancel", "", TestServer.TOKEN);
        assertThat(cancel.statusCode()).isEqualTo(200);
        assertThat(cancel.body()).contains("\"cancelled\":true").contains("\"status\":\"cancelled\"");
        assertThat(get("/api/v1/runs?workflow=" + WF + "&status=cancelled", TestServer.TOKEN).body()).contains(id);
        assertThat(Map.of()).isEmpty();
    }
}
