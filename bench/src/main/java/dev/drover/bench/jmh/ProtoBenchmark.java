package dev.drover.bench.jmh;

import dev.drover.proto.v1.Assignment;
import dev.drover.proto.v1.StartStep;
import dev.drover.proto.v1.StartSteps;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The dispatcher's wire format: one {@code Assignment} carrying a batch of 500 {@code StartStep}s
 * (what a worker with free slots receives after one claim), built, encoded and decoded.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ProtoBenchmark {
  static final int BATCH = 500;

  private Assignment assignment;
  private byte[] encoded;

  /** Builds the batch once. */
  @Setup
  public void setup() {
    assignment = build();
    encoded = assignment.toByteArray();
  }

  static Assignment build() {
    StartSteps.Builder b = StartSteps.newBuilder();
    for (int i = 0; i < BATCH; i++) {
      b.addSteps(StartStep.newBuilder()
          .setTaskId(1_000_000L + i)
          .setAttempt(1)
          .setRunId("01a21300-f880-7802-bb2f-" + String.format("%012x", 0x250ed55b1136L + i))
          .setWorkflowName("bench-noop")
          .setWorkflowVersion("1")
          .setStepName("noop")
          .setInputJson("{\"p\":2,\"i\":" + i + ",\"t\":123456789012345,\"s\":0}")
          .putMetadata("team", "growth")
          .setExecutionTimeoutMs(30_000)
          .setMaxAttempts(3)
          .setSlotCost(1));
    }
    return Assignment.newBuilder().setStarts(b).build();
  }

  /** Builds the 500 messages (what the dispatcher does per claim). */
  @Benchmark
  public Assignment build500() {
    return build();
  }

  /** Serializes the batch. */
  @Benchmark
  public byte[] encode500() {
    return assignment.toByteArray();
  }

  /** Parses the batch (what the worker does). */
  @Benchmark
  public Assignment decode500() throws Exception {
    return Assignment.parseFrom(encoded);
  }
}
