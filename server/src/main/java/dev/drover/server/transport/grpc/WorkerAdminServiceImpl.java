package dev.drover.server.transport.grpc;

import dev.drover.proto.v1.DrainWorkerRequest;
import dev.drover.proto.v1.GetWorkerRequest;
import dev.drover.proto.v1.ListWorkersRequest;
import dev.drover.proto.v1.ListWorkersResponse;
import dev.drover.proto.v1.PauseWorkerRequest;
import dev.drover.proto.v1.RegisteredWorker;
import dev.drover.proto.v1.ResumeWorkerRequest;
import dev.drover.proto.v1.WorkerAdminServiceGrpc;
import dev.drover.proto.v1.WorkerState;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.WorkerRegistry.WorkerView;
import io.grpc.stub.StreamObserver;
import java.time.Duration;

/** Listing, pausing, resuming and draining workers over gRPC. */
final class WorkerAdminServiceImpl extends WorkerAdminServiceGrpc.WorkerAdminServiceImplBase {
    private final Engine engine;

    WorkerAdminServiceImpl(Engine engine) {
        this.engine = engine;
    }

    private static String tenant() {
        return AuthInterceptor.TENANT.get();
    }

    @Override
    public void listWorkers(ListWorkersRequest req, StreamObserver<ListWorkersResponse> out) {
        Statuses.unary(out, () -> {
            ListWorkersResponse.Builder b = ListWorkersResponse.newBuilder();
            engine.workers().list(tenant()).forEach(w -> b.addWorkers(worker(w)));
            return b.build();
        });
    }

    @Override
    public void getWorker(GetWorkerRequest req, StreamObserver<RegisteredWorker> out) {
        Statuses.unary(out, () -> worker(engine.workers().get(tenant(), req.getWorkerId())));
    }

    @Override
    public void pauseWorker(PauseWorkerRequest req, StreamObserver<RegisteredWorker> out) {
        Statuses.unary(out, () -> worker(engine.workers().setState(tenant(), req.getWorkerId(), "paused")));
    }

    @Override
    public void resumeWorker(ResumeWorkerRequest req, StreamObserver<RegisteredWorker> out) {
        Statuses.unary(out, () -> worker(engine.workers().setState(tenant(), req.getWorkerId(), "active")));
    }

    @Override
    public void drainWorker(DrainWorkerRequest req, StreamObserver<RegisteredWorker> out) {
        Statuses.unary(out, () -> worker(engine.workers().drain(tenant(), req.getWorkerId(), Duration.ofMillis(req.getWaitMs()))));
    }

    static RegisteredWorker worker(WorkerView w) {
        RegisteredWorker.Builder b = RegisteredWorker.newBuilder()
                .setWorkerId(w.id()).setName(w.name()).putAllLabels(w.labels()).setSlots(w.slots())
                .setUsedSlots(w.usedSlots()).setInFlight(w.inFlight())
                .setState(switch (w.state()) {
                    case "paused" -> WorkerState.WORKER_STATE_PAUSED;
                    case "draining" -> WorkerState.WORKER_STATE_DRAINING;
                    default -> WorkerState.WORKER_STATE_ACTIVE;
                })
                .setDrained(w.drained()).setAlive(w.alive()).addAllActions(w.actions());
        if (w.lastHeartbeatAt() != null) b.setLastHeartbeatMs(w.lastHeartbeatAt().toEpochMilli());
        if (w.registeredAt() != null) b.setRegisteredAtMs(w.registeredAt().toEpochMilli());
        if (w.sdk() != null) b.setSdk(w.sdk());
        return b.build();
    }
}
