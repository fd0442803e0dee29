package dev.drover.server.transport.grpc;

import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.HeartbeatRequest;
import dev.drover.proto.v1.HeartbeatResponse;
import dev.drover.proto.v1.ListenRequest;
import dev.drover.proto.v1.RegisterRequest;
import dev.drover.proto.v1.RegisterResponse;
import dev.drover.proto.v1.ReleaseStepsRequest;
import dev.drover.proto.v1.ReleaseStepsResponse;
import dev.drover.proto.v1.ReportStepEventsRequest;
import dev.drover.proto.v1.ReportStepEventsResponse;
import dev.drover.proto.v1.WorkerServiceGrpc;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineException;
import dev.drover.server.engine.WorkerConnection;
import dev.drover.server.engine.WorkerRegistry;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;

/** The worker API over gRPC. */
final class WorkerServiceImpl extends WorkerServiceGrpc.WorkerServiceImplBase {
    private final Engine engine;

    WorkerServiceImpl(Engine engine) {
        this.engine = engine;
    }

    @Override
    public void register(RegisterRequest req, StreamObserver<RegisterResponse> out) {
        Statuses.unary(out, () -> {
            WorkerRegistry.Registered r = engine.workers().register(AuthInterceptor.TENANT.get(), req.getWorkerName(),
                    req.getWorkflowsList(), req.getSlots(), req.getLabelsMap(), req.getPreviousWorkerId(), req.getSdk());
            return RegisterResponse.newBuilder().setWorkerId(r.workerId().toString())
                    .setHeartbeatIntervalMs(r.heartbeatIntervalMs()).setLeaseTimeoutMs(r.leaseTimeoutMs()).build();
        });
    }

    @Override
    public void listen(ListenRequest req, StreamObserver<Assignment> out) {
        ServerCallStreamObserver<Assignment> stream = (ServerCallStreamObserver<Assignment>) out;
        StreamConnection conn = new StreamConnection(stream);
        stream.setOnCancelHandler(() -> {
            conn.closed = true;
            engine.workers().detach(req.getWorkerId(), conn);
        });
        try {
            List<WorkerRegistry.InFlight> inFlight = req.getInFlightList().stream()
                    .map(a -> new WorkerRegistry.InFlight(a.getTaskId(), a.getAttempt(), a.getSlotCost())).toList();
            engine.workers().attach(req.getWorkerId(), conn, inFlight);
        } catch (RuntimeException e) {
            out.onError(Statuses.toStatus(e));
        }
    }

    @Override
    public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatResponse> out) {
        Statuses.unary(out, () -> HeartbeatResponse.newBuilder().setKnown(engine.workers().heartbeat(req.getWorkerId())).build());
    }

    @Override
    public void reportStepEvents(ReportStepEventsRequest req, StreamObserver<ReportStepEventsResponse> out) {
        Statuses.unary(out, () -> {
            if (req.getEventsCount() > 10_000) {
                throw new EngineException(EngineException.Kind.INVALID_ARGUMENT, "events: at most 10000 per call");
            }
            return ReportStepEventsResponse.newBuilder()
                    .addAllAccepted(engine.reports().apply(req.getWorkerId(), req.getEventsList())).build();
        });
    }

    @Override
    public void releaseSteps(ReleaseStepsRequest req, StreamObserver<ReleaseStepsResponse> out) {
        Statuses.unary(out, () -> {
            String tenant = AuthInterceptor.TENANT.get();
            if (req.getLeaving()) engine.workers().leaving(tenant, req.getWorkerId());
            List<WorkerRegistry.InFlight> steps = req.getStepsList().stream()
                    .map(a -> new WorkerRegistry.InFlight(a.getTaskId(), a.getAttempt(), 0)).toList();
            return ReleaseStepsResponse.newBuilder()
                    .setReleased(engine.workers().handBack(tenant, req.getWorkerId(), steps)).build();
        });
    }

    /** A worker's assignment stream; sends are serialized because several engine threads may send. */
    private static final class StreamConnection implements WorkerConnection {
        private final ServerCallStreamObserver<Assignment> stream;
        volatile boolean closed;

        StreamConnection(ServerCallStreamObserver<Assignment> stream) {
            this.stream = stream;
        }

        @Override
        public synchronized boolean send(Assignment a) {
            if (closed || stream.isCancelled()) return false;
            try {
                stream.onNext(a);
                return true;
            } catch (RuntimeException e) {
                closed = true;
                return false;
            }
        }

        @Override
        public synchronized void close() {
            if (closed) return;
            closed = true;
            try {
                stream.onCompleted();
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
    }
}
