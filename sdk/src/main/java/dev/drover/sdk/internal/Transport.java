package dev.drover.sdk.internal;

import dev.drover.proto.v1.RunServiceGrpc;
import dev.drover.proto.v1.WorkerServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gRPC channel shared by a client and its workers, with the bearer token attached to every
 * call by an interceptor, and stub factories that apply the call timeout.
 *
 * <pre>{@code
 * Transport t = new Transport("localhost:7077", "secret", Duration.ofSeconds(30));
 * Run r = t.runs().getRun(GetRunRequest.newBuilder().setRunId(id).build());
 * }</pre>
 */
public final class Transport implements AutoCloseable {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final ManagedChannel managed;
  private final Channel channel;
  private final Duration callTimeout;
  private final String target;
  private final AtomicLong lastBackoffReset = new AtomicLong(System.nanoTime() - RESET_EVERY_NANOS);
  /** At most this often a failed call makes the channel dial its servers again at once. */
  private static final long RESET_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  /**
   * @param address {@code host:port} (an {@code http://} or {@code grpc://} prefix is ignored)
   * @param token bearer token, or {@code null}/blank for none
   * @param callTimeout deadline of unary calls
   */
  public Transport(String address, String token, Duration callTimeout) {
    this(java.util.List.of(address), token, callTimeout);
  }

  /**
   * @param addresses one or more {@code host:port}; with several, calls are spread over them and a
   *     dead server is skipped (its in-flight calls fail with UNAVAILABLE and are retried by the caller)
   */
  public Transport(java.util.List<String> addresses, String token, Duration callTimeout) {
    java.util.List<String> stripped = addresses.stream().map(Transport::stripScheme).toList();
    this.target = String.join(",", stripped);
    this.callTimeout = callTimeout;
    if (stripped.size() == 1) {
      this.managed = NettyChannelBuilder.forTarget(stripped.get(0)).usePlaintext().build();
    } else {
      io.grpc.NameResolverRegistry registry = new io.grpc.NameResolverRegistry();
      registry.register(new StaticAddresses(stripped));
      this.managed = NettyChannelBuilder.forTarget(StaticAddresses.SCHEME + ":///servers")
          .nameResolverFactory(registry.asFactory())
          .defaultLoadBalancingPolicy("round_robin")
          .usePlaintext()
          .build();
    }
    Channel reconnecting = ClientInterceptors.intercept(managed, new RedialOnUnavailable());
    if (token != null && !token.isBlank()) {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, "Bearer " + token.trim());
      this.channel = ClientInterceptors.intercept(reconnecting, MetadataUtils.newAttachHeadersInterceptor(headers));
    } else {
      this.channel = reconnecting;
    }
  }

  /**
   * A call that failed with UNAVAILABLE makes the channel dial its servers again now
   * ({@link ManagedChannel#resetConnectBackoff()}), at most every 200 ms. Without it, a server that
   * was down for a while is only dialled again when gRPC's reconnect backoff says so (up to two
   * minutes): a worker whose replica stops would fail over to one that came back seconds ago only
   * after its leases expired, and a restarted single server would wait as long for its workers.
   * The callers retry at their own pace, which thus becomes the pace of reconnection attempts.
   */
  private final class RedialOnUnavailable implements ClientInterceptor {
    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          super.start(
              new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onClose(Status status, Metadata trailers) {
                  if (status.getCode() == Status.Code.UNAVAILABLE) {
                    redial();
                  }
                  super.onClose(status, trailers);
                }
              },
              headers);
        }
      };
    }
  }

  private void redial() {
    long now = System.nanoTime();
    long last = lastBackoffReset.get();
    if (now - last >= RESET_EVERY_NANOS && lastBackoffReset.compareAndSet(last, now)) {
      managed.resetConnectBackoff();
    }
  }

  /** The address actually dialled. */
  public String target() {
    return target;
  }

  /** Deadline of unary calls. */
  public Duration callTimeout() {
    return callTimeout;
  }

  /** A run-service stub whose call gets the default deadline. */
  public RunServiceGrpc.RunServiceBlockingStub runs() {
    return runs(callTimeout);
  }

  /** A run-service stub with a specific deadline; fails fast (UNAVAILABLE) when no server answers. */
  public RunServiceGrpc.RunServiceBlockingStub runs(Duration deadline) {
    return RunServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * A run-service stub for waiting on runs: it waits (within the deadline) for the channel to be
   * ready instead of failing at once, so an awaiting client rides out a server restart.
   */
  public RunServiceGrpc.RunServiceBlockingStub awaiting(Duration deadline) {
    return runs(deadline).withWaitForReady();
  }

  /** A worker-service stub whose call gets the default deadline. */
  public WorkerServiceGrpc.WorkerServiceBlockingStub workers() {
    return workers(callTimeout);
  }

  /** A worker-service stub with a specific deadline. */
  public WorkerServiceGrpc.WorkerServiceBlockingStub workers(Duration deadline) {
    return WorkerServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** An event-service stub with a specific deadline; fails fast (UNAVAILABLE) when no server answers. */
  public dev.drover.proto.v1.EventServiceGrpc.EventServiceBlockingStub events(Duration deadline) {
    return dev.drover.proto.v1.EventServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A schedule-service stub (crons and one-time schedules) whose call gets the default deadline. */
  public dev.drover.proto.v1.ScheduleServiceGrpc.ScheduleServiceBlockingStub schedules() {
    return schedules(callTimeout);
  }

  /** A schedule-service stub with a specific deadline (for calls retried within the call timeout). */
  public dev.drover.proto.v1.ScheduleServiceGrpc.ScheduleServiceBlockingStub schedules(Duration deadline) {
    return dev.drover.proto.v1.ScheduleServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A worker-administration stub (list, pause, resume, drain) with a specific deadline. */
  public dev.drover.proto.v1.WorkerAdminServiceGrpc.WorkerAdminServiceBlockingStub workerAdmin(Duration deadline) {
    return dev.drover.proto.v1.WorkerAdminServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A rate-limit-service stub whose call gets the default deadline. */
  public dev.drover.proto.v1.RateLimitServiceGrpc.RateLimitServiceBlockingStub rateLimits() {
    return dev.drover.proto.v1.RateLimitServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** An async worker-service stub without deadline, for the long-lived Listen stream. */
  public WorkerServiceGrpc.WorkerServiceStub workersAsync() {
    return WorkerServiceGrpc.newStub(channel);
  }

  /** Shuts the channel down, waiting briefly for calls in progress. */
  @Override
  public void close() {
    managed.shutdown();
    try {
      if (!managed.awaitTermination(5, TimeUnit.SECONDS)) {
        managed.shutdownNow();
      }
    } catch (InterruptedException e) {
      managed.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private static String stripScheme(String address) {
    String a = address.trim();
    for (String prefix : new String[] {"http://", "grpc://", "dns:///"}) {
      if (a.startsWith(prefix)) {
        a = a.substring(prefix.length());
      }
    }
    return a.endsWith("/") ? a.substring(0, a.length() - 1) : a;
  }
}
