package dev.drover.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.drover.proto.v1.HeartbeatRequest;
import dev.drover.proto.v1.HeartbeatResponse;
import dev.drover.proto.v1.WorkerServiceGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Failover between servers at the channel level. A server that was down for a while is redialled by
 * gRPC only after a growing backoff (1 s, 1.6 s, 2.6 s, 4.1 s ... up to 2 minutes); when the server
 * the client was using dies in the meantime, the client must not wait for that timer (a worker
 * would lose its leases meanwhile — a rolling restart of the servers showed it): a failed call
 * makes the channel redial at once.
 */
class TransportFailoverTest {

  static final class Beats extends WorkerServiceGrpc.WorkerServiceImplBase {
    @Override
    public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatResponse> out) {
      out.onNext(HeartbeatResponse.newBuilder().setKnown(true).build());
      out.onCompleted();
    }
  }

  @Test
  void aServerBackFromTheDeadIsUsedAtOnceWhenTheOtherOneStops() throws Exception {
    int portA = freePort();
    int portB = freePort();
    Server b = serve(portB);
    Server a = null;
    try (Transport t = new Transport(List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB), null, Duration.ofSeconds(2))) {
      // A is down: calls go to B while the channel redials A with a growing backoff.
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
      while (System.nanoTime() < until) {
        beat(t);
        Thread.sleep(200);
      }
      a = serve(portA);
      b.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

      long t0 = System.nanoTime();
      int failures = 0;
      while (true) {
        try {
          beat(t);
          break;
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          failures++;
          assertThat(System.nanoTime() - t0).as("still failing").isLessThan(TimeUnit.SECONDS.toNanos(15));
          Thread.sleep(100); // the pace of a worker's retries
        }
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ms).as("time to reach A after B stopped (%d failed calls)", failures).isLessThan(1_500);
    } finally {
      b.shutdownNow();
      if (a != null) a.shutdownNow();
    }
  }

  private static void beat(Transport t) {
    t.workers(Duration.ofSeconds(2)).heartbeat(HeartbeatRequest.newBuilder().setWorkerId("w").build());
  }

  private static Server serve(int port) throws IOException {
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(new Beats()).build().start();
  }

  /**
   * A free port below the kernel's ephemeral range, for a process that is restarted on the same
   * port. A port from that range ({@code new ServerSocket(0)}) can be taken while the process is
   * down: a client redialing it may be handed that very port as its local one and connect to itself
   * (TCP simultaneous open), and the restarted process then fails to bind.
   */
  private static int freePort() throws IOException {
    int low = 32768;
    try {
      low = Integer.parseInt(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0)
          .trim().split("\\s+")[0]);
    } catch (java.io.IOException | RuntimeException notLinux) {
      // keep the Linux default
    }
    int from = Math.max(1024, low / 2); // procfs files report size 0: readAllLines, not readString
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(from, Math.max(from + 1, low));
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new java.net.InetSocketAddress(port));
        return port;
      } catch (IOException inUse) {
        // try another
      }
    }
    throw new IllegalStateException("no free port in " + from + ".." + low);
  }
}
