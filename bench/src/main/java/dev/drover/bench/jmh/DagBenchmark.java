package dev.drover.bench.jmh;

import dev.drover.proto.v1.RetryPolicy;
import dev.drover.proto.v1.StepDefinition;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.engine.Dag;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** The server's DAG validation and indexing ({@link Dag#of}) for the 4-step DAG and a 50-step one. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DagBenchmark {
  private final WorkflowDefinition four = diamond();
  private final WorkflowDefinition fifty = layered(50);

  static WorkflowDefinition diamond() {
    return WorkflowDefinition.newBuilder().setName("bench-dag").setVersion("1")
        .addSteps(step("root"))
        .addSteps(step("left", "root"))
        .addSteps(step("right", "root"))
        .addSteps(step("join", "left", "right"))
        .build();
  }

  /** Step i depends on steps i-1 and i-3 (when they exist): a long chain with fan-in. */
  static WorkflowDefinition layered(int n) {
    WorkflowDefinition.Builder b = WorkflowDefinition.newBuilder().setName("bench-dag-" + n).setVersion("1");
    for (int i = 0; i < n; i++) {
      StepDefinition.Builder s = step("s" + i).toBuilder();
      if (i >= 1) {
        s.addParents("s" + (i - 1));
      }
      if (i >= 3) {
        s.addParents("s" + (i - 3));
      }
      b.addSteps(s);
    }
    return b.build();
  }

  private static StepDefinition step(String name, String... parents) {
    StepDefinition.Builder s = StepDefinition.newBuilder().setName(name)
        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(3).setInitialBackoffMs(1000).setBackoffMultiplier(2)
            .setMaxBackoffMs(60_000));
    for (String p : parents) {
      s.addParents(p);
    }
    return s.build();
  }

  /** The 4-step DAG. */
  @Benchmark
  public Dag dag4() {
    return Dag.of(four);
  }

  /** A 50-step DAG. */
  @Benchmark
  public Dag dag50() {
    return Dag.of(fifty);
  }
}
