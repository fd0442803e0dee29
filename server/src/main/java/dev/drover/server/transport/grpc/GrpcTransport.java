package dev.drover.server.transport.grpc;

import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineSettings;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** The gRPC endpoint: the client API (RunService) and the worker API (WorkerService). */
public final class GrpcTransport implements AutoCloseable {
    private final Server server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private static final String TRIGGER_RUN = dev.drover.proto.v1.RunServiceGrpc.getTriggerRunMethod().getFullMethodName();

    public GrpcTransport(Engine engine, String bindAddress, int port, String token) {
        AuthInterceptor auth = new AuthInterceptor(token, EngineSettings.DEFAULT_TENANT);
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(bindAddress, port))
                .executor(executor)
                // TriggerRun never blocks (see RunServiceImpl.triggerRun): it runs where its request was read.
                .callExecutor(new io.grpc.ServerCallExecutorSupplier() {
                    @Override
                    public <ReqT, RespT> java.util.concurrent.Executor getExecutor(io.grpc.ServerCall<ReqT, RespT> call,
                                                                                io.grpc.Metadata headers) {
                        return TRIGGER_RUN.equals(call.getMethodDescriptor().getFullMethodName())
                                ? com.google.common.util.concurrent.MoreExecutors.directExecutor() : null;
                    }
                })
                .maxInboundMessageSize(64 * 1024 * 1024)
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .addService(ServerInterceptors.intercept(new RunServiceImpl(engine, executor), auth))
                .addService(ServerInterceptors.intercept(new WorkerServiceImpl(engine), auth))
                .addService(ServerInterceptors.intercept(new EventServiceImpl(engine), auth))
                .addService(ServerInterceptors.intercept(new ScheduleServiceImpl(engine), auth))
                .addService(ServerInterceptors.intercept(new WorkerAdminServiceImpl(engine), auth))
                .addService(ServerInterceptors.intercept(new RateLimitServiceImpl(engine), auth))
                .build();
    }

    public GrpcTransport start() throws IOException {
        server.start();
        return this;
    }

    public int port() {
        return server.getPort();
    }

    /** Refuses new calls (clients and workers move to another replica); calls in progress go on. */
    public void stopAccepting() {
        server.shutdown();
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(3, TimeUnit.SECONDS)) server.shutdownNow();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
        executor.shutdownNow();
    }
}
