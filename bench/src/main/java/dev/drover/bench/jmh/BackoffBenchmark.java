package dev.drover.bench.jmh;

import dev.drover.proto.v1.RetryPolicy;
import dev.drover.server.engine.Backoff;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** The scheduler's retry decision: {@link Backoff#delayMs} (exponential, capped, jittered). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BackoffBenchmark {
  /** The attempt that failed. */
  @Param({"1", "5", "30"})
  public int failedAttempt;

  private final RetryPolicy policy = RetryPolicy.newBuilder().setMaxAttempts(50).setInitialBackoffMs(1000)
      .setBackoffMultiplier(2.0).setMaxBackoffMs(60_000).build();

  /** One delay. */
  @Benchmark
  public long delayMs() {
    return Backoff.delayMs(policy, failedAttempt);
  }
}
