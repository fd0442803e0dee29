package dev.drover.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.proto.v1.CancelRunRequest;
import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.RunServiceGrpc;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.TriggerRunRequest;
import dev.drover.proto.v1.TriggerRunResponse;
import dev.drover.proto.v1.TriggerRunsRequest;
import dev.drover.proto.v1.WorkflowDefinition;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Whatever mix of idempotency keys, client-chosen ids and retries arrives, concurrently or in one
 * batch, and sent twice (a retry after a lost answer): every key and every id stands for exactly
 * one run, created once, and every run has all its rows (a step row per step, a task for its root)
 * while no id that was not inserted has any. Checked in the database itself. This is the contract of
 * the one-statement trigger (RunQueries.insertWithSteps) and of its autocommitted form.
 */
class TriggerIdentityProperties {
    static final String WF = "prop-trigger-identity";
    static ManagedChannel channel;
    static RunServiceGrpc.RunServiceBlockingStub runs;
    static String jdbcUrl;
    static final List<String> created = new ArrayList<>();

    /** One trigger: identity 0-3 carry that identity's key, 4 none; the id is fixed per identity, fresh, or the server's. */
    record Req(int identity, IdMode idMode) {}

    enum IdMode { NONE, FIXED, FRESH }

    @BeforeContainer
    static void setUp() {
        DroverServer server = TestServer.shared();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TestServer.TOKEN);
        runs = RunServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
        // Two steps, no worker serving them: every run stays queued with its root's task in the queue.
        runs.putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(WorkflowDefinition.newBuilder().setName(WF).setVersion("1")
                .addSteps(StepDefinition.newBuilder().setName("first"))
                .addSteps(StepDefinition.newBuilder().setName("second").addParents("first"))).build());
        var m = java.util.regex.Pattern.compile("127\\.0\\.0\\.1:(\\d+)").matcher(server.databaseDescription());
        assertThat(m.find()).as("embedded database address in %s", server.databaseDescription()).isTrue();
        jdbcUrl = "jdbc:postgresql://127.0.0.1:" + m.group(1) + "/postgres?user=postgres";
    }

    @AfterContainer
    static void tearDown() {
        // Leave nothing queued behind for the tests that share this server.
        for (String id : created) runs.cancelRun(CancelRunRequest.newBuilder().setRunId(id).build());
        if (channel != null) channel.shutdownNow();
    }

    @Provide
    Arbitrary<List<Req>> requests() {
        return Combinators.combine(Arbitraries.integers().between(0, 4), Arbitraries.of(IdMode.class))
                .as(Req::new).list().ofMinSize(1).ofMaxSize(24);
    }

    @Property(tries = 40, shrinking = ShrinkingMode.BOUNDED)
    void everyKeyAndIdIsOneRunWithAllItsRows(@ForAll("requests") List<Req> reqs, @ForAll boolean asOneBatch) throws Exception {
        String tryId = UUID.randomUUID().toString();
        UUID[] fixed = new UUID[5];
        for (int i = 0; i < fixed.length; i++) fixed[i] = newRunId();
        List<TriggerRunRequest> calls = new ArrayList<>();
        for (Req r : reqs) {
            TriggerRunRequest.Builder b = TriggerRunRequest.newBuilder().setWorkflowName(WF).setInputJson("{\"i\": " + r.identity() + "}");
            if (r.identity() < 4) b.setIdempotencyKey("k" + r.identity() + "-" + tryId);
            // A batch must not name one id twice (see Runs.triggerAll): there ids are fresh or the server's.
            IdMode mode = asOneBatch && r.idMode() == IdMode.FIXED ? IdMode.FRESH : r.idMode();
            // Without a key or an id a call is not idempotent (its retry is a new run), as the SDK knows:
            // it always sends an id.
            if (r.identity() == 4 && mode == IdMode.NONE) mode = IdMode.FRESH;
            if (mode == IdMode.FIXED) b.setRunId(fixed[r.identity()].toString());
            if (mode == IdMode.FRESH) b.setRunId(newRunId().toString());
            calls.add(b.build());
        }

        List<TriggerRunResponse> first = send(calls, asOneBatch);
        List<TriggerRunResponse> again = send(calls, asOneBatch); // the retry of a call whose answer was lost

        Map<String, String> runOfKey = new HashMap<>();
        Map<String, Integer> createdCount = new HashMap<>();
        Set<String> distinct = new HashSet<>();
        for (List<TriggerRunResponse> wave : List.of(first, again)) {
            for (int i = 0; i < calls.size(); i++) {
                TriggerRunRequest call = calls.get(i);
                TriggerRunResponse got = wave.get(i);
                distinct.add(got.getRunId());
                if (got.getCreated()) createdCount.merge(got.getRunId(), 1, Integer::sum);
                if (!call.getIdempotencyKey().isEmpty()) {
                    String before = runOfKey.putIfAbsent(call.getIdempotencyKey(), got.getRunId());
                    if (before != null) assertThat(got.getRunId()).as("call %d: one run per key", i).isEqualTo(before);
                } else if (!call.getRunId().isEmpty()) {
                    assertThat(got.getRunId()).as("call %d: a keyless call with an id gets that run", i).isEqualTo(call.getRunId());
                }
            }
        }
        for (String id : distinct) assertThat(createdCount.get(id)).as("run %s created exactly once", id).isEqualTo(1);
        for (TriggerRunResponse r : again) assertThat(r.getCreated()).as("nothing is created by the retry").isFalse();
        assertThat(first).extracting(TriggerRunResponse::getRunId).containsExactlyElementsOf(
                again.stream().map(TriggerRunResponse::getRunId).toList());
        created.addAll(distinct);

        Set<String> sent = new HashSet<>();
        for (TriggerRunRequest c : calls) if (!c.getRunId().isEmpty()) sent.add(c.getRunId());
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            assertThat(count(c, "SELECT count(*) FROM drover_run WHERE id = ANY(?::uuid[])", distinct)).isEqualTo(distinct.size());
            assertThat(count(c, "SELECT count(*) FROM drover_step_run WHERE run_id = ANY(?::uuid[])", distinct))
                    .as("a step row per step of every run").isEqualTo(2L * distinct.size());
            assertThat(count(c, "SELECT count(*) FROM drover_task WHERE run_id = ANY(?::uuid[]) AND step_name = 'first'", distinct))
                    .as("a queued task for every run's root, and no other").isEqualTo(distinct.size());
            assertThat(count(c, "SELECT count(*) FROM drover_task WHERE run_id = ANY(?::uuid[])", distinct)).isEqualTo(distinct.size());
            Set<String> notRuns = new HashSet<>(sent);
            notRuns.removeAll(distinct);
            assertThat(count(c, "SELECT count(*) FROM drover_run WHERE id = ANY(?::uuid[])", notRuns)).as("ids that lost to a key").isZero();
            assertThat(count(c, "SELECT count(*) FROM drover_step_run WHERE run_id = ANY(?::uuid[])", notRuns)).as("orphan steps").isZero();
            assertThat(count(c, "SELECT count(*) FROM drover_task WHERE run_id = ANY(?::uuid[])", notRuns)).as("orphan tasks").isZero();
        }
    }

    private static List<TriggerRunResponse> send(List<TriggerRunRequest> calls, boolean asOneBatch) throws Exception {
        if (asOneBatch) return runs.triggerRuns(TriggerRunsRequest.newBuilder().addAllRuns(calls).build()).getRunsList();
        // Concurrent single calls: the server's group-commit writer puts them in shared statements.
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<TriggerRunResponse>> futures = new ArrayList<>();
            for (TriggerRunRequest c : calls) futures.add(pool.submit(() -> runs.triggerRun(c)));
            List<TriggerRunResponse> out = new ArrayList<>();
            for (Future<TriggerRunResponse> f : futures) out.add(f.get(30, TimeUnit.SECONDS));
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static long count(Connection c, String sql, Set<String> ids) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, "{" + String.join(",", ids) + "}");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** A time-ordered id like the SDK's (UUIDv7 layout: 48-bit milliseconds, version 7, variant 2). */
    static UUID newRunId() {
        long ms = System.currentTimeMillis();
        var rnd = java.util.concurrent.ThreadLocalRandom.current();
        long msb = (ms << 16) | 0x7000L | (rnd.nextLong() & 0x0FFFL);
        long lsb = (rnd.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb);
    }
}
