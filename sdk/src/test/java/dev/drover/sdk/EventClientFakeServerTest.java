package dev.drover.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.drover.proto.v1.EventServiceGrpc;
import dev.drover.proto.v1.EventTrigger;
import dev.drover.proto.v1.PushEventRequest;
import dev.drover.proto.v1.PushEventResponse;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.sdk.internal.Definitions;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Pushes against a fake EventService: retried while unavailable, with one client-chosen event id. */
class EventClientFakeServerTest {
  final List<PushEventRequest> pushes = new CopyOnWriteArrayList<>();
  Server server;
  DroverClient client;

  @BeforeEach
  void setUp() throws Exception {
    EventServiceGrpc.EventServiceImplBase events = new EventServiceGrpc.EventServiceImplBase() {
      @Override
      public void pushEvent(PushEventRequest req, StreamObserver<PushEventResponse> out) {
        pushes.add(req);
        if (pushes.size() == 1) {
          // As when the server committed the event but the answer was lost in a restart.
          out.onError(Status.UNAVAILABLE.withDescription("restarting").asRuntimeException());
          return;
        }
        if (req.getName().isEmpty()) {
          out.onError(Status.INVALID_ARGUMENT.withDescription("name: must not be empty").asRuntimeException());
          return;
        }
        out.onNext(PushEventResponse.newBuilder().setEventId(req.getEventId()).setCreated(false).addRunIds("run-1").build());
        out.onCompleted();
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(events).build().start();
    client = DroverClient.builder().address("127.0.0.1:" + server.getPort()).build();
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void a_push_is_retried_with_the_same_event_id() {
    PushResult r = client.push(EventRequest.of("order.paid", Map.of("total", 150))
        .withMetadata("src", "test").withIdempotencyKey("k-1"));
    assertThat(pushes).hasSize(2);
    assertThat(pushes.get(1).getEventId()).isEqualTo(pushes.get(0).getEventId());
    assertThat(UUID.fromString(pushes.get(0).getEventId()).version()).isEqualTo(7);
    assertThat(pushes.get(1).getPayloadJson()).isEqualTo("{\"total\":150}");
    assertThat(pushes.get(1).getMetadataMap()).isEqualTo(Map.of("src", "test"));
    assertThat(pushes.get(1).getIdempotencyKey()).isEqualTo("k-1");
    assertThat(r).isEqualTo(new PushResult(pushes.get(0).getEventId(), false, List.of("run-1")));
  }

  @Test
  void a_refused_push_is_not_retried() {
    pushes.add(PushEventRequest.getDefaultInstance()); // skip the simulated outage
    assertThatThrownBy(() -> client.push("", null))
        .isInstanceOfSatisfying(DroverException.class, e -> assertThat(e.code()).isEqualTo(DroverException.Code.INVALID_ARGUMENT));
    assertThat(pushes).hasSize(2);
    assertThat(pushes.get(1).getPayloadJson()).isEmpty();
  }

  @Workflow(name = "listens")
  @OnEvent("order.paid")
  @OnEvent(value = "order.*", filter = " payload.total > 100 ")
  public static class Listens {
    @Step
    public void run() {}
  }

  @Workflow(name = "bad-wildcard")
  @OnEvent("order.*.paid")
  public static class BadWildcard {
    @Step
    public void run() {}
  }

  @Test
  void on_event_annotations_become_event_triggers() {
    WorkflowDefinition def = Definitions.fromClass(Listens.class).toProto();
    assertThat(def.getEventTriggersList()).containsExactly(
        EventTrigger.newBuilder().setEvent("order.paid").build(),
        EventTrigger.newBuilder().setEvent("order.*").setFilter("payload.total > 100").build());
    assertThatThrownBy(() -> Definitions.fromClass(BadWildcard.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workflow 'bad-wildcard'")
        .hasMessageContaining("@OnEvent #1, attribute value")
        .hasMessageContaining("order.*.paid");
  }
}
