package dev.drover.server.fuzz;

import dev.drover.proto.v1.ListRunsRequest;
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
import java.util.concurrent.TimeUnit;
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
