package dev.drover.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.AwaitRunRequest;
import dev.drover.proto.v1.GetRunRequest;
import dev.drover.proto.v1.Run;
import dev.drover.proto.v1.RunServiceGrpc;
import dev.drover.proto.v1.StepRun;
import dev.drover.proto.v1.TriggerRunRequest;
import dev.drover.proto.v1.TriggerRunResponse;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Exercises the client against a fake RunService on localhost. */
class ClientFakeServerTest {
  public record Out(int total) {}

  final AtomicReference<TriggerRunRequest> lastTrigger = new AtomicReference<>();
  final AtomicReference<String> lastAuth = new AtomicReference<>();
  final AtomicInteger awaits = new AtomicInteger();
  Server server;
  DroverClient client;

  @BeforeEach
  void setUp() throws Exception {
    RunServiceGrpc.RunServiceImplBase runs = new RunServiceGrpc.RunServiceImplBase() {
      @Override
      public void triggerRun(TriggerRunRequest req, StreamObserver<TriggerRunResponse> out) {
        lastTrigger.set(req);
        out.onNext(TriggerRunResponse.newBuilder().setRunId(req.getWorkflowName().equals("bad") ? "run-bad" : "run-1").setCreated(true).build());
        out.onCompleted();
      }

      @Override
      public void getRun(GetRunRequest req, StreamObserver<Run> out) {
        out.onError(Status.NOT_FOUND.withDescription("run " + req.getRunId() + " not found").asRuntimeException());
      }

      @Override
      public void awaitRun(AwaitRunRequest req, StreamObserver<Run> out) {
        // The first wait returns a non-final state, as on a server-side timeout.
        boolean done = awaits.incrementAndGet() > 1;
        Run.Builder r = Run.newBuilder().setId(req.getRunId()).setWorkflowName("sum").setCreatedAtMs(1000);
        if (!done) {
          r.setStatus(dev.drover.proto.v1.RunStatus.RUN_STATUS_RUNNING);
        } else if (req.getRunId().equals("run-bad")) {
          r.setStatus(dev.drover.proto.v1.RunStatus.RUN_STATUS_FAILED).setError("add: boom");
        } else {
          r.setStatus(dev.drover.proto.v1.RunStatus.RUN_STATUS_SUCCEEDED).setOutputJson("{\"total\":7}")
              .addSteps(StepRun.newBuilder().setName("add").setStatus(dev.drover.proto.v1.StepStatus.STEP_STATUS_SUCCEEDED));
        }
        out.onNext(r.build());
        out.onCompleted();
      }
    };
    ServerInterceptor auth = new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        lastAuth.set(headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER)));
        return next.startCall(call, headers);
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(runs, auth)).build().start();
    client = DroverClient.builder().address("127.0.0.1:" + server.getPort()).token("secret").build();
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void triggersAndAwaitsResult() throws Exception {
    RunHandle h = client.run("sum", Map.of("a", 3, "b", 4),
        RunOptions.defaults().withIdempotencyKey("k").withMetadata(Map.of("m", "v")).withPriority(2));
    assertThat(h.runId()).isEqualTo("run-1");
    assertThat(lastAuth.get()).isEqualTo("Bearer secret");
    assertThat(lastTrigger.get().getIdempotencyKey()).isEqualTo("k");
    assertThat(lastTrigger.get().getMetadataMap()).containsEntry("m", "v");
    assertThat(lastTrigger.get().getPriority()).isEqualTo(2);
    assertThat(lastTrigger.get().getInputJson()).contains("\"a\":3");

    Out out = h.result(Out.class).get(10, TimeUnit.SECONDS);
    assertThat(out).isEqualTo(new Out(7));
    assertThat(awaits.get()).isEqualTo(2);
  }

  @Test
  void failedRunCompletesExceptionally() {
    RunHandle h = client.runJson("bad", "{\"x\":1}", RunOptions.defaults());
    assertThat(lastTrigger.get().getInputJson()).isEqualTo("{\"x\":1}");
    assertThatThrownBy(() -> h.result(Out.class).get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(RunFailedException.class)
        .hasMessage("add: boom");
  }

  @Test
  void awaitRunMapsRunInfo() {
    awaits.set(1);
    RunInfo info = client.awaitRun("run-1", Duration.ofSeconds(5));
    assertThat(info.status()).isEqualTo(RunStatus.SUCCEEDED);
    assertThat(info.createdAt()).isNotNull();
    assertThat(info.startedAt()).isNull();
    assertThat(info.step("add").status()).isEqualTo(StepStatus.SUCCEEDED);
    assertThat(info.output(Out.class).total()).isEqualTo(7);
  }

  @Test
  void mapsServerErrors() {
    assertThatThrownBy(() -> client.getRun("nope"))
        .isInstanceOf(DroverException.class)
        .hasMessage("run nope not found")
        .satisfies(e -> assertThat(((DroverException) e).code()).isEqualTo(DroverException.Code.NOT_FOUND));
  }
}
