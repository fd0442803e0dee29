package dev.drover.server.transport.grpc;

import dev.drover.proto.v1.DeleteRateLimitRequest;
import dev.drover.proto.v1.DeleteRateLimitResponse;
import dev.drover.proto.v1.GetRateLimitRequest;
import dev.drover.proto.v1.ListRateLimitsRequest;
import dev.drover.proto.v1.ListRateLimitsResponse;
import dev.drover.proto.v1.PauseRateLimitKeyRequest;
import dev.drover.proto.v1.PutRateLimitRequest;
import dev.drover.proto.v1.RateLimit;
import dev.drover.proto.v1.RateLimitBucket;
import dev.drover.proto.v1.RateLimitServiceGrpc;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.RateLimits;
import dev.drover.server.engine.RateLimits.BucketView;
import dev.drover.server.engine.RateLimits.LimitView;
import io.grpc.stub.StreamObserver;

/** Rate limits over gRPC (see ratelimits.proto). */
final class RateLimitServiceImpl extends RateLimitServiceGrpc.RateLimitServiceImplBase {
    private final Engine engine;

    RateLimitServiceImpl(Engine engine) {
        this.engine = engine;
    }

    private static String tenant() {
        return AuthInterceptor.TENANT.get();
    }

    private RateLimits limits() {
        return engine.rateLimits();
    }

    @Override
    public void putRateLimit(PutRateLimitRequest req, StreamObserver<RateLimit> out) {
        Statuses.unary(out, () -> limit(limits().put(tenant(), req.getName(), req.getCapacity(), req.getWindow(), req.getWindowMs())));
    }

    @Override
    public void getRateLimit(GetRateLimitRequest req, StreamObserver<RateLimit> out) {
        Statuses.unary(out, () -> limit(limits().get(tenant(), req.getName(), req.getTop())));
    }

    @Override
    public void listRateLimits(ListRateLimitsRequest req, StreamObserver<ListRateLimitsResponse> out) {
        Statuses.unary(out, () -> {
            ListRateLimitsResponse.Builder b = ListRateLimitsResponse.newBuilder();
            limits().list(tenant()).forEach(l -> b.addLimits(limit(l)));
            return b.build();
        });
    }

    @Override
    public void deleteRateLimit(DeleteRateLimitRequest req, StreamObserver<DeleteRateLimitResponse> out) {
        Statuses.unary(out, () -> {
            limits().delete(tenant(), req.getName());
            return DeleteRateLimitResponse.getDefaultInstance();
        });
    }

    @Override
    public void pauseRateLimitKey(PauseRateLimitKeyRequest req, StreamObserver<RateLimitBucket> out) {
        Statuses.unary(out, () -> bucket(limits().pause(tenant(), req.getName(), req.getKey(), req.getDurationMs(), req.getReason())));
    }

    static RateLimit limit(LimitView l) {
        RateLimit.Builder b = RateLimit.newBuilder().setName(l.name()).setCapacity(l.capacity()).setWindowMs(l.windowMs())
                .setWindow(l.window()).setCreatedAtMs(l.createdAt().toEpochMilli()).setUpdatedAtMs(l.updatedAt().toEpochMilli())
                .setNowMs(l.nowMs()).setWindowStartMs(l.windowStartMs()).setActiveKeys(l.activeKeys()).setPausedKeys(l.pausedKeys());
        l.buckets().forEach(x -> b.addBuckets(bucket(x)));
        return b.build();
    }

    static RateLimitBucket bucket(BucketView v) {
        RateLimitBucket.Builder b = RateLimitBucket.newBuilder().setLimitName(v.limitName()).setKey(v.key()).setUsed(v.used())
                .setRemaining(v.remaining()).setPausedUntilMs(v.pausedUntilMs());
        if (v.pauseReason() != null) b.setPauseReason(v.pauseReason());
        return b.build();
    }
}
