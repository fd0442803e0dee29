package dev.drover.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.CancelStep;
import dev.drover.proto.v1.HeartbeatRequest;
import dev.drover.proto.v1.HeartbeatResponse;
import dev.drover.proto.v1.ListenRequest;
import dev.drover.proto.v1.RegisterRequest;
import dev.drover.proto.v1.RegisterResponse;
import dev.drover.proto.v1.ReportStepEventsRequest;
import dev.drover.proto.v1.ReportStepEventsResponse;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.StepEvent;
import dev.drover.proto.v1.WorkerServiceGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drives a real worker against a fake WorkerService on localhost. */
class WorkerFakeServerTest {

  public record Greeting(String name, int times) {}

  @Workflow(name = "greet")
  public static class GreetWorkflow {
    @Step
    public String hello(Greeting g, StepContext ctx) {
      return "hello " + g.name() + " x" + g.times() + " attempt " + ctx.attempt();
    }

    @Step(parents = "hello")
    public void fail(StepContext ctx) {
      throw new IllegalStateException("wrapped", new NonRetryableException("bad input"));
    }

    @Step(parents = "hello")
    public void slow(StepContext ctx) throws InterruptedException {
      Thread.sleep(60_000);
    }
  }

  static final class FakeWorkerService extends WorkerServiceGrpc.WorkerServiceImplBase {
    final List<RegisterRequest> registrations = new CopyOnWriteArrayList<>();
    final BlockingQueue<StepEvent> events = new LinkedBlockingQueue<>();
    final BlockingQueue<StreamObserver<Assignment>> listeners = new LinkedBlockingQueue<>();
    final AtomicInteger failReports = new AtomicInteger();
    volatile boolean rejectAuth;
    volatile StreamObserver<Assignment> current;

    @Override
    public void register(RegisterRequest req, StreamObserver<RegisterResponse> out) {
      if (rejectAuth) {
        out.onError(Status.UNAUTHENTICATED.withDescription("bad token").asRuntimeException());
        return;
      }
      registrations.add(req);
      out.onNext(RegisterResponse.newBuilder().setWorkerId("w-1").setHeartbeatIntervalMs(200).setLeaseTimeoutMs(2000).build());
      out.onCompleted();
    }

    @Override
    public void listen(ListenRequest req, StreamObserver<Assignment> out) {
      current = out;
      listeners.add(out);
    }

    @Override
    public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatResponse> out) {
      out.onNext(HeartbeatResponse.newBuilder().setKnown(true).build());
      out.onCompleted();
    }

    @Override
    public void reportStepEvents(ReportStepEventsRequest req, StreamObserver<ReportStepEventsResponse> out) {
      if (failReports.getAndDecrement() > 0) {
        out.onError(Status.UNAVAILABLE.withDescription("try later").asRuntimeException());
        return;
      }
      events.addAll(req.getEventsList());
      ReportStepEventsResponse.Builder b = ReportStepEventsResponse.newBuilder();
      req.getEventsList().forEach(e -> b.addAccepted(true));
      out.onNext(b.build());
      out.onCompleted();
    }
  }

  FakeWorkerService service;
  Server server;
  DroverClient client;

  @BeforeEach
  void setUp() throws Exception {
    service = new FakeWorkerService();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
    client = DroverClient.builder().address("127.0.0.1:" + server.getPort()).token("t").build();
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private static Assignment start(long task, String step, String input, long timeoutMs) {
    return Assignment.newBuilder()
        .setStart(StartStep.newBuilder().setTaskId(task).setAttempt(1).setRunId("r-" + task)
            .setWorkflowName("greet").setWorkflowVersion("1").setStepName(step).setInputJson(input)
            .setExecutionTimeoutMs(timeoutMs).setMaxAttempts(3).setSlotCost(1))
        .build();
  }

  private StepEvent next() throws InterruptedException {
    StepEvent e = service.events.poll(10, TimeUnit.SECONDS);
    assertThat(e).as("expected a step event").isNotNull();
    return e;
  }

  private static void awaitInFlight(Worker worker, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (worker.inFlight() != n && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(worker.inFlight()).isEqualTo(n);
  }

  @Test
  void executesReportsCancelsTimesOutAndReconnects() throws Exception {
    service.failReports.set(1); // first report fails: must be retried, not lost
    Worker worker = client.newWorker("w").register(new GreetWorkflow()).slots(4).start();
    assertThat(worker.workerId()).isEqualTo("w-1");
    assertThat(service.registrations.get(0).getWorkflows(0).getStepsCount()).isEqualTo(3);
    StreamObserver<Assignment> stream = service.listeners.poll(5, TimeUnit.SECONDS);

    stream.onNext(start(1, "hello", "{\"name\":\"ann\",\"times\":2,\"extra\":true}", 0));
    StepEvent done = next();
    assertThat(done.getCompleted().getOutputJson()).isEqualTo("\"hello ann x2 attempt 1\"");

    stream.onNext(start(2, "fail", "{}", 0));
    StepEvent failed = next();
    assertThat(failed.getFailed().getNonRetryable()).isTrue();
    assertThat(failed.getFailed().getErrorType()).isEqualTo(IllegalStateException.class.getName());

    stream.onNext(start(3, "hello", "[1,2]", 0));
    StepEvent badInput = next();
    assertThat(badInput.getFailed().getNonRetryable()).isTrue();
    assertThat(badInput.getFailed().getErrorMessage()).contains("cannot deserialize input");

    stream.onNext(start(4, "slow", "{}", 100));
    StepEvent timedOut = next();
    assertThat(timedOut.getFailed().getTimedOut()).isTrue();
    assertThat(timedOut.getFailed().getCancelled()).isFalse();

    stream.onNext(start(5, "slow", "{}", 0));
    awaitInFlight(worker, 1);
    stream.onNext(Assignment.newBuilder().setCancel(CancelStep.newBuilder().setTaskId(5).setAttempt(1).setReason("run cancelled")).build());
    StepEvent cancelled = next();
    assertThat(cancelled.getTaskId()).isEqualTo(5);
    assertThat(cancelled.getFailed().getCancelled()).isTrue();
    assertThat(worker.inFlight()).isZero();

    // Server drops the stream while a step runs: the worker re-registers and re-listens.
    stream.onNext(start(6, "slow", "{}", 0));
    awaitInFlight(worker, 1);
    stream.onCompleted();
    StreamObserver<Assignment> stream2 = service.listeners.poll(10, TimeUnit.SECONDS);
    assertThat(stream2).isNotNull();
    assertThat(service.registrations.get(service.registrations.size() - 1).getPreviousWorkerId()).isEqualTo("w-1");

    // Closing with a short drain reports the still-running step as cancelled and flushes it.
    worker.close(Duration.ofMillis(100));
    StepEvent abandoned = next();
    assertThat(abandoned.getTaskId()).isEqualTo(6);
    assertThat(abandoned.getFailed().getCancelled()).isTrue();
  }

  @Test
  void startFailsFastOnBadToken() {
    service.rejectAuth = true;
    assertThatThrownBy(() -> client.newWorker("w").register(new GreetWorkflow()).start())
        .isInstanceOf(DroverException.class)
        .hasMessageContaining("bad token")
        .satisfies(e -> assertThat(((DroverException) e).code()).isEqualTo(DroverException.Code.UNAUTHENTICATED));
  }
}
