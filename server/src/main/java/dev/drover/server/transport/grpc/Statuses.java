package dev.drover.server.transport.grpc;

import dev.drover.server.engine.EngineException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a unary handler and turns engine and store failures into the right gRPC status. */
final class Statuses {
    private static final Logger log = LoggerFactory.getLogger(Statuses.class);

    private Statuses() {}

    static <T> void unary(StreamObserver<T> out, Supplier<T> body) {
        T result;
        try {
            result = body.get();
        } catch (RuntimeException e) {
            out.onError(toStatus(e));
            return;
        }
        out.onNext(result);
        out.onCompleted();
    }

    static StatusRuntimeException toStatus(Throwable e) {
        if (e instanceof StatusRuntimeException s) return s;
        if (e instanceof RuntimeException re) e = EngineException.classify(re);
        if (e instanceof EngineException ee) {
            Status s = switch (ee.kind()) {
                case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
                case NOT_FOUND -> Status.NOT_FOUND;
                case UNAVAILABLE -> Status.UNAVAILABLE;
                case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            };
            // Clipped: gRPC clients refuse status messages beyond 8 KiB of headers.
            return s.withDescription(dev.drover.server.engine.Text.clip(ee.getMessage(), 2000)).asRuntimeException();
        }
        log.error("Unexpected failure in a gRPC call", e);
        return Status.INTERNAL.withDescription("internal error: " + e).asRuntimeException();
    }
}
