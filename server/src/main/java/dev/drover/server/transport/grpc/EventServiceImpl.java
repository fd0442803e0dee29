package dev.drover.server.transport.grpc;

import dev.drover.proto.v1.Event;
import dev.drover.proto.v1.EventServiceGrpc;
import dev.drover.proto.v1.GetEventRequest;
import dev.drover.proto.v1.ListEventsRequest;
import dev.drover.proto.v1.ListEventsResponse;
import dev.drover.proto.v1.PushEventRequest;
import dev.drover.proto.v1.PushEventResponse;
import dev.drover.proto.v1.PushEventsRequest;
import dev.drover.proto.v1.PushEventsResponse;
import dev.drover.proto.v1.ReplayEventRequest;
import dev.drover.proto.v1.ReplayEventResponse;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineException;
import dev.drover.server.engine.Events;
import dev.drover.server.engine.Events.EventView;
import dev.drover.server.engine.Events.PushCommand;
import dev.drover.server.engine.Events.PushResult;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/** Events over gRPC (see events.proto). */
final class EventServiceImpl extends EventServiceGrpc.EventServiceImplBase {
    private final Engine engine;

    EventServiceImpl(Engine engine) {
        this.engine = engine;
    }

    private static String tenant() {
        return AuthInterceptor.TENANT.get();
    }

    @Override
    public void pushEvent(PushEventRequest req, StreamObserver<PushEventResponse> out) {
        Statuses.unary(out, () -> response(engine.events().push(command(req))));
    }

    @Override
    public void pushEvents(PushEventsRequest req, StreamObserver<PushEventsResponse> out) {
        Statuses.unary(out, () -> {
            if (req.getEventsCount() > Events.MAX_BATCH) {
                throw new EngineException(EngineException.Kind.INVALID_ARGUMENT,
                        "events: at most " + Events.MAX_BATCH + " per call, got " + req.getEventsCount());
            }
            List<PushCommand> cmds = new ArrayList<>(req.getEventsCount());
            for (PushEventRequest r : req.getEventsList()) cmds.add(command(r));
            PushEventsResponse.Builder b = PushEventsResponse.newBuilder();
            for (PushResult r : engine.events().pushAll(cmds)) b.addEvents(response(r));
            return b.build();
        });
    }

    @Override
    public void getEvent(GetEventRequest req, StreamObserver<Event> out) {
        Statuses.unary(out, () -> event(engine.events().get(tenant(), req.getEventId())));
    }

    @Override
    public void listEvents(ListEventsRequest req, StreamObserver<ListEventsResponse> out) {
        Statuses.unary(out, () -> {
            ListEventsResponse.Builder b = ListEventsResponse.newBuilder();
            engine.events().list(tenant(), req.getName(), req.getBeforeEventId(), req.getLimit())
                    .forEach(e -> b.addEvents(event(e)));
            return b.build();
        });
    }

    @Override
    public void replayEvent(ReplayEventRequest req, StreamObserver<ReplayEventResponse> out) {
        Statuses.unary(out, () -> ReplayEventResponse.newBuilder()
                .addAllRunIds(engine.events().replay(tenant(), req.getEventId())).build());
    }

    private static PushCommand command(PushEventRequest r) {
        return new PushCommand(tenant(), r.getName(), r.getPayloadJson(), r.getMetadataMap(), r.getIdempotencyKey(),
                r.getEventId());
    }

    private static PushEventResponse response(PushResult r) {
        return PushEventResponse.newBuilder().setEventId(r.eventId()).setCreated(r.created()).addAllRunIds(r.runIds()).build();
    }

    private static Event event(EventView e) {
        Event.Builder b = Event.newBuilder().setId(e.id()).setName(e.name()).setPayloadJson(e.payloadJson())
                .putAllMetadata(e.metadata()).addAllRunIds(e.runIds());
        if (e.idempotencyKey() != null) b.setIdempotencyKey(e.idempotencyKey());
        if (e.createdAt() != null) b.setCreatedAtMs(e.createdAt().toEpochMilli());
        return b.build();
    }
}
