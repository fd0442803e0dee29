package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.util.concurrent.ListenableFuture;
import dev.drover.proto.v1.GetRunRequest;
import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.Run;
import dev.drover.proto.v1.RunServiceGrpc;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.TriggerRunRequest;
import dev.drover.proto.v1.TriggerRunResponse;
import dev.drover.proto.v1.WorkflowDefinition;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A TriggerRun call starts on the gRPC event loop and is answered from the trigger writer's thread
 * once durable; a trigger that must read the database first (a child run, a workflow this server has
 * not loaded yet) moves to a handler thread. Every kind gets its answer, and bad input its field-named
 * error, from a server of its own with no worker (runs stay queued).
 */
class TriggerRunPathsTest {
    static DroverServer server;
    static ManagedChannel channel;
    static RunServiceGrpc.RunServiceBlockingStub runs;
    static RunServiceGrpc.RunServiceFutureStub async;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.tempDir("trigger-paths-"));
        channel = TestServer.channel(server.grpcPort());
        runs = RunServiceGrpc.newBlockingStub(channel).withInterceptors(TestServer.auth());
        async = RunServiceGrpc.newFutureStub(channel).withInterceptors(TestServer.auth());
        runs().putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(WorkflowDefinition.newBuilder().setName("paths").setVersion("1")
                .addSteps(StepDefinition.newBuilder().setName("only"))).build());
    }

    @AfterAll
    static void stop() {
        if (channel != null) channel.shutdownNow();
        if (server != null) server.close();
    }

    /** Every call has a deadline: a call the server never answers fails the test instead of hanging it. */
    private static RunServiceGrpc.RunServiceBlockingStub runs() {
        return runs.withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    private static TriggerRunRequest.Builder call(String input) {
        return TriggerRunRequest.newBuilder().setWorkflowName("paths").setInputJson(input);
    }

    private static Run get(String runId) {
        return runs().getRun(GetRunRequest.newBuilder().setRunId(runId).build());
    }

    @Test
    void a_trigger_is_durable_when_answered_whichever_path_it_took() {
        // No version: the first call loads the latest version (a read, on a handler thread), the next ones
        // find it loaded (the event loop). Both kinds are in the database by the time they are answered.
        TriggerRunResponse first = runs().triggerRun(call("{\"n\": 1}").build());
        TriggerRunResponse second = runs().triggerRun(call("{\"n\": 2}").build());
        TriggerRunResponse pinned = runs().triggerRun(call("{\"n\": 3}").setWorkflowVersion("1").build());
        // A big input is checked on a handler thread, not on the event loop.
        String big = "{\"text\": \"" + "x".repeat(100_000) + "\"}";
        TriggerRunResponse large = runs().triggerRun(call(big).build());
        assertThat(get(large.getRunId()).getInputJson()).contains("x".repeat(100_000));
        for (TriggerRunResponse r : List.of(first, second, pinned, large)) {
            assertThat(r.getCreated()).isTrue();
            assertThat(get(r.getRunId()).getWorkflowName()).isEqualTo("paths");
        }
        // A retried call (same run id) gets the same run back, not a second one.
        String id = UUID.randomUUID().toString();
        assertThat(runs().triggerRun(call("{}").setRunId(id).build()).getCreated()).isTrue();
        TriggerRunResponse again = runs().triggerRun(call("{}").setRunId(id).build());
        assertThat(again.getCreated()).isFalse();
        assertThat(again.getRunId()).isEqualTo(id);
    }

    @Test
    void a_child_trigger_reads_its_parent_first_and_still_gets_its_answer() {
        String parent = runs().triggerRun(call("{}").build()).getRunId();
        TriggerRunResponse child = runs().triggerRun(call("{\"child\": true}").setParentRunId(parent).setParentStep("only").build());
        assertThat(child.getCreated()).isTrue();
        assertThat(get(child.getRunId()).getParentRunId()).isEqualTo(parent);

        String nobody = UUID.randomUUID().toString();
        assertThatThrownBy(() -> runs().triggerRun(call("{}").setParentRunId(nobody).setParentStep("only").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("parent_run_id");
                });
    }

    @Test
    void bad_input_gets_an_error_naming_the_field_on_either_path() {
        assertThatThrownBy(() -> runs().triggerRun(call("{not json").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("input_json");
                });
        assertThatThrownBy(() -> runs().triggerRun(call("{}").setPriority(9).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getDescription()).startsWith("priority"));
        assertThatThrownBy(() -> runs().triggerRun(call("{}").setParentStep("only").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("parent_step");
                });
        assertThatThrownBy(() -> runs().triggerRun(TriggerRunRequest.newBuilder().setWorkflowName("no-such-workflow").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("workflow_name");
                });
    }

    @Test
    void many_calls_in_flight_on_one_connection_are_all_answered() throws Exception {
        runs().triggerRun(call("{}").build()); // the latest version is loaded: the calls below stay on the event loop
        List<ListenableFuture<TriggerRunResponse>> calls = new ArrayList<>();
        for (int i = 0; i < 300; i++) calls.add(async.withDeadlineAfter(30, TimeUnit.SECONDS).triggerRun(call("{\"i\": " + i + "}").build()));
        Set<String> ids = new HashSet<>();
        for (var f : calls) {
            TriggerRunResponse r = f.get(30, TimeUnit.SECONDS);
            assertThat(r.getCreated()).isTrue();
            ids.add(r.getRunId());
        }
        assertThat(ids).hasSize(300);
        for (String id : ids) assertThat(get(id).getId()).isEqualTo(id);
    }
}
