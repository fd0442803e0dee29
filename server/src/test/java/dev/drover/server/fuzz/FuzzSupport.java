package dev.drover.server.fuzz;

import dev.drover.proto.v1.CancelRunRequest;
import dev.drover.proto.v1.GetRunRequest;
import dev.drover.proto.v1.ListCronsRequest;
import dev.drover.proto.v1.ListRateLimitsRequest;
import dev.drover.proto.v1.ListRunsRequest;
import dev.drover.proto.v1.ListSchedulesRequest;
import dev.drover.proto.v1.RateLimit;
import dev.drover.proto.v1.RateLimitServiceGrpc;
import dev.drover.proto.v1.Run;
import dev.drover.proto.v1.RunStatus;
import dev.drover.proto.v1.ScheduleServiceGrpc;
import dev.drover.proto.v1.WorkerAdminServiceGrpc;
import dev.drover.proto.v1.PutWorkflowRequest;
import dev.drover.proto.v1.RunServiceGrpc;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkerServiceGrpc;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.DroverServer;
import dev.drover.server.TestServer;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/** Shared plumbing of the fuzz properties: the shared server, an authenticated channel, run counting. */
final class FuzzSupport {
    private FuzzSupport() {}

    /** What the documented contract says about a generated request. */
    enum Expect { VALID, INVALID, EITHER;
        Expect and(Expect o) {
            if (this == INVALID || o == INVALID) return INVALID;
            if (this == EITHER || o == EITHER) return EITHER;
            return VALID;
        }
    }

    record Gen<T>(T value, Expect expect, String desc) {
        @Override
        public String toString() {
            return desc + " [" + expect + "]";
        }
    }

    static DroverServer server() {
        return TestServer.shared();
    }

    static ManagedChannel channel() {
        return NettyChannelBuilder.forAddress("127.0.0.1", server().grpcPort()).usePlaintext()
                .maxInboundMessageSize(64 * 1024 * 1024).build();
    }

    static <S extends AbstractStub<S>> S auth(S stub, String token) {
        S s = stub.withDeadlineAfter(30, TimeUnit.SECONDS);
        if (token == null) return s;
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    static RunServiceGrpc.RunServiceBlockingStub runs(ManagedChannel ch) {
        return auth(RunServiceGrpc.newBlockingStub(ch), TestServer.TOKEN);
    }

    static WorkerServiceGrpc.WorkerServiceBlockingStub workers(ManagedChannel ch) {
        return auth(WorkerServiceGrpc.newBlockingStub(ch), TestServer.TOKEN);
    }

    static ScheduleServiceGrpc.ScheduleServiceBlockingStub schedules(ManagedChannel ch) {
        return auth(ScheduleServiceGrpc.newBlockingStub(ch), TestServer.TOKEN);
    }

    static RateLimitServiceGrpc.RateLimitServiceBlockingStub rateLimits(ManagedChannel ch) {
        return auth(RateLimitServiceGrpc.newBlockingStub(ch), TestServer.TOKEN);
    }

    static WorkerAdminServiceGrpc.WorkerAdminServiceBlockingStub workerAdmin(ManagedChannel ch) {
        return auth(WorkerAdminServiceGrpc.newBlockingStub(ch), TestServer.TOKEN);
    }

    /** Every cron of the tenant. */
    static int cronCount(ManagedChannel ch) {
        return schedules(ch).listCrons(ListCronsRequest.getDefaultInstance()).getCronsCount();
    }

    /** Schedules of {@code workflow} in any status; the fuzz workflows never come near 1000. */
    static int scheduleCount(ManagedChannel ch, String workflow) {
        return schedules(ch).listSchedules(ListSchedulesRequest.newBuilder().setWorkflowName(workflow).setLimit(1000).build())
                .getSchedulesCount();
    }

    static Set<String> rateLimitNames(ManagedChannel ch) {
        return rateLimits(ch).listRateLimits(ListRateLimitsRequest.getDefaultInstance()).getLimitsList().stream()
                .map(RateLimit::getName).collect(Collectors.toSet());
    }

    static boolean isFinal(RunStatus s) {
        return s == RunStatus.RUN_STATUS_SUCCEEDED || s == RunStatus.RUN_STATUS_FAILED || s == RunStatus.RUN_STATUS_CANCELLED;
    }

    /**
     * "Never a stuck run": every unfinished run of {@code workflow} (the fuzz workflows have no worker, so
     * whatever a fuzz request started waits in the queue) can still be cancelled and then is final.
     * Returns how many were unfinished.
     */
    static int cancelUnfinished(ManagedChannel ch, String workflow) {
        int n = 0;
        for (Run r : runs(ch).listRuns(ListRunsRequest.newBuilder().setWorkflowName(workflow).setLimit(1000).build()).getRunsList()) {
            if (isFinal(r.getStatus())) continue;
            n++;
            runs(ch).cancelRun(CancelRunRequest.newBuilder().setRunId(r.getId()).build());
            RunStatus after = runs(ch).getRun(GetRunRequest.newBuilder().setRunId(r.getId()).build()).getStatus();
            if (!isFinal(after)) throw new AssertionError("run " + r.getId() + " of " + workflow + " is stuck in " + after + " after a cancel");
        }
        return n;
    }

    static void registerSingleStep(ManagedChannel ch, String workflow) {
        runs(ch).putWorkflow(PutWorkflowRequest.newBuilder().setWorkflow(WorkflowDefinition.newBuilder()
                .setName(workflow).setVersion("1").addSteps(StepDefinition.newBuilder().setName("only"))).build());
    }

    /** Runs of {@code workflow}; the fuzz workflows never come near 1000 runs. */
    static int runCount(ManagedChannel ch, String workflow) {
        return runs(ch).listRuns(ListRunsRequest.newBuilder().setWorkflowName(workflow).setLimit(1000).build()).getRunsCount();
    }

    /** Short strings of every kind: empty, blank, ASCII, unicode (incl. astral and control characters), NUL. */
    static Arbitrary<String> nastyString() {
        return Arbitraries.oneOf(
                Arbitraries.of("", " ", "\t\n", "null", "{}", "[]", "../../etc/passwd", "' OR 1=1 --", "%00", "a/b",
                        "\u00e9t\u00e9", "\u65e5\u672c\u8a9e", "\ud83d\ude80\ud83d\udd25", "\u202e\u200b", "x\u0000y"),
                Arbitraries.strings().ofMaxLength(40),
                Arbitraries.strings().all().ofMaxLength(20),
                Arbitraries.strings().alpha().numeric().withChars("-_.:/ ").ofMaxLength(60));
    }

    static boolean hasNul(String s) {
        return s != null && s.indexOf('\u0000') >= 0;
    }

    static String repeat(char c, int n) {
        return String.valueOf(c).repeat(n);
    }
}
