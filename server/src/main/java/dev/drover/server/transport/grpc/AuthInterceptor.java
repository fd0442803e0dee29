package dev.drover.server.transport.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Checks {@code authorization: Bearer <token>} on every call. The tenant of the caller travels in the
 * gRPC context; with one admin token it is always the default tenant (scoped tokens come later).
 */
final class AuthInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    static final Context.Key<String> TENANT = Context.key("drover-tenant");

    private final byte[] expected;
    private final String tenantId;

    AuthInterceptor(String token, String tenantId) {
        this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        this.tenantId = tenantId;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String got = headers.get(AUTHORIZATION);
        if (got == null) {
            call.close(Status.UNAUTHENTICATED.withDescription("missing 'authorization: Bearer <token>' metadata"), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        if (!MessageDigest.isEqual(expected, got.getBytes(StandardCharsets.UTF_8))) {
            call.close(Status.UNAUTHENTICATED.withDescription("invalid token"), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        return Contexts.interceptCall(Context.current().withValue(TENANT, tenantId), call, headers, next);
    }
}
