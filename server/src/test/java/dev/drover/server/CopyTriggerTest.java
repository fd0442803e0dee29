package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.RetryPolicy;
import dev.drover.proto.v1.RunServiceGrpc;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.TriggerRunRequest;
import dev.drover.proto.v1.TriggerRunResponse;
import dev.drover.proto.v1.TriggerRunsRequest;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.store.RunQueries;
import io.grpc.ManagedChannel;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Big trigger batches are written with COPY (RunQueries.copyWithSteps) instead of the array insert.
 * Same contract: a batch sent again gets its runs back and creates none, and every row holds what the
 * insert would have written. Checked in the database itself, on a server of its own (no worker: the
 * runs stay queued).
 */
class CopyTriggerTest {
    static final int BIG = RunQueries.COPY_MIN + 100;
    static DroverServer server;
    static ManagedChannel channel;
    static RunServiceGrpc.RunServiceBlockingStub runs;
    static String jdbcUrl;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.tempDir("copy-"));
        channel = TestServer.channel(server.grpcPort());
        runs = RunServiceGrpc.newBlockingStub(channel).withInterceptors(TestServer.auth());
        var m = java.util.regex.Pattern.compile("127\\.0\\.0\\.1:(\\d+)").matcher(server.databaseDescription());
        assertThat(m.find()).isTrue();
        jdbcUrl = "jdbc:postgresql://127.0.0.1:" + m.group(1) + "/postgres?user=postgres";
        runs.putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(WorkflowDefinition.newBuilder().setName("copy-two").setVersion("1")
                .addSteps(StepDefinition.newBuilder().setName("first"))
                .addSteps(StepDefinition.newBuilder().setName("second").addParents("first"))).build());
        runs.putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(WorkflowDefinition.newBuilder().setName("copy-rows").setVersion("1")
                .addSteps(StepDefinition.newBuilder().setName("only")
                        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(4))
                        .setExecutionTimeoutMs(5_000).setScheduleToStartTimeoutMs(3_600_000).setSlotCost(2))).build());
    }

    @AfterAll
    static void stop() {
        if (channel != null) channel.shutdownNow();
        if (server != null) server.close();
    }

    @Test
    void a_big_batch_sent_again_gets_its_runs_back_and_creates_none() throws Exception {
        List<TriggerRunRequest> calls = new ArrayList<>();
        for (int i = 0; i < BIG; i++) calls.add(call("copy-two", "{\"i\": " + i + "}", 0).setRunId(TriggerIdentityProperties.newRunId().toString()).build());
        List<TriggerRunResponse> first = send(calls);
        assertThat(first).allMatch(TriggerRunResponse::getCreated);

        List<TriggerRunResponse> again = send(calls); // the retry of a call whose answer was lost
        assertThat(again).noneMatch(TriggerRunResponse::getCreated);
        assertThat(again).extracting(TriggerRunResponse::getRunId)
                .containsExactlyElementsOf(first.stream().map(TriggerRunResponse::getRunId).toList());

        // Half old, half new: the old ones come back, the new ones are created.
        List<TriggerRunRequest> mixed = new ArrayList<>(calls.subList(0, BIG / 2));
        for (int i = 0; i < BIG / 2; i++) mixed.add(call("copy-two", "{\"j\": " + i + "}", 0).setRunId(TriggerIdentityProperties.newRunId().toString()).build());
        List<TriggerRunResponse> third = send(mixed);
        for (int i = 0; i < mixed.size(); i++) {
            assertThat(third.get(i).getRunId()).isEqualTo(mixed.get(i).getRunId());
            assertThat(third.get(i).getCreated()).as("call %d", i).isEqualTo(i >= BIG / 2);
        }

        Set<String> ids = new HashSet<>();
        for (TriggerRunRequest c : calls) ids.add(c.getRunId());
        for (TriggerRunRequest c : mixed) ids.add(c.getRunId());
        assertThat(ids).hasSize(BIG + BIG / 2);
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            assertThat(count(c, "SELECT count(*) FROM drover_run WHERE id = ANY(?::uuid[])", ids)).isEqualTo(ids.size());
            assertThat(count(c, "SELECT count(*) FROM drover_step_run WHERE run_id = ANY(?::uuid[])", ids)).isEqualTo(2L * ids.size());
            assertThat(count(c, "SELECT count(*) FROM drover_task WHERE run_id = ANY(?::uuid[]) AND step_name = 'first'", ids))
                    .isEqualTo(ids.size());
            assertThat(count(c, "SELECT count(*) FROM drover_task WHERE run_id = ANY(?::uuid[])", ids)).isEqualTo(ids.size());
        }
    }

    @Test
    void a_copied_batch_holds_the_rows_the_insert_writes() throws Exception {
        // Characters COPY's text format must escape (tab, newline, backslash) and some it must not mangle.
        String tricky = "tab\\there, line\\nbreak, back\\\\slash, \\\"quoted\\\", ü, 😀";
        List<TriggerRunRequest> big = new ArrayList<>(), small = new ArrayList<>();
        for (int i = 0; i < BIG; i++) big.add(call("copy-rows", "{\n\t\"i\": " + i + ", \"s\": \"" + tricky + "\"}", 3).build());
        for (int i = 0; i < 5; i++) small.add(call("copy-rows", "{\"i\": " + (10_000 + i) + ", \"s\": \"" + tricky + "\"}", 3).build());
        Set<String> copied = ids(send(big)), inserted = ids(send(small));

        // Everything a run, its step and its task hold, relative to the run's creation (the now() of its
        // transaction), without the per-run input field.
        String shape = """
                SELECT DISTINCT concat_ws(' | ', r.tenant_id, r.workflow_name, r.workflow_version, r.status, r.input - 'i',
                       r.metadata, r.priority, r.pending_steps, r.started_at IS NULL, r.finished_at IS NULL, r.parent_run_id IS NULL,
                       s.step_name, s.status, s.pending_parents, s.attempts, s.worker_id IS NULL, s.started_at IS NULL,
                       t.tenant_id, t.step_name, t.workflow_name, t.action, t.priority, t.state, t.attempt, t.max_attempts,
                       t.slot_cost, t.execution_timeout_ms, t.available_at = r.created_at, t.created_at = r.created_at,
                       t.schedule_deadline - r.created_at, t.rank - (extract(epoch FROM r.created_at) * 1000)::bigint,
                       t.worker_id IS NULL, t.leased_at IS NULL, t.required_labels IS NULL, t.sticky IS NULL)
                  FROM drover_run r JOIN drover_step_run s ON s.run_id = r.id JOIN drover_task t ON t.run_id = r.id
                 WHERE r.id = ANY(?::uuid[])""";
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            List<String> fromCopy = strings(c, shape, copied), fromInsert = strings(c, shape, inserted);
            assertThat(fromInsert).hasSize(1);
            assertThat(fromCopy).containsExactlyElementsOf(fromInsert);
            assertThat(fromCopy.get(0)).contains("\"s\": \"" + tricky + "\"").contains("{\"team\": \"a\\tb\"}")
                    .contains(" | 01:00:00 | -90000 | ");
            assertThat(strings(c, "SELECT DISTINCT (input ->> 'i')::int >= 0 FROM drover_run WHERE id = ANY(?::uuid[])", copied))
                    .containsExactly("t");
        }
    }

    private static TriggerRunRequest.Builder call(String wf, String input, int priority) {
        return TriggerRunRequest.newBuilder().setWorkflowName(wf).setInputJson(input).setPriority(priority).putMetadata("team", "a\tb");
    }

    private static List<TriggerRunResponse> send(List<TriggerRunRequest> calls) {
        return runs.triggerRuns(TriggerRunsRequest.newBuilder().addAllRuns(calls).build()).getRunsList();
    }

    private static Set<String> ids(List<TriggerRunResponse> rs) {
        Set<String> out = new HashSet<>();
        for (TriggerRunResponse r : rs) out.add(r.getRunId());
        return out;
    }

    private static long count(Connection c, String sql, Set<String> ids) throws Exception {
        return Long.parseLong(strings(c, sql, ids).get(0));
    }

    private static List<String> strings(Connection c, String sql, Set<String> ids) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, "{" + String.join(",", ids) + "}");
            try (ResultSet rs = ps.executeQuery()) {
                List<String> out = new ArrayList<>();
                while (rs.next()) out.add(rs.getString(1));
                return out;
            }
        }
    }
}
