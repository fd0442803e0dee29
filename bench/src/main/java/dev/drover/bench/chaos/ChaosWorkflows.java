package dev.drover.bench.chaos;

import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;

/**
 * The workflows of the fault-injection suite. Every step execution appends one row to the ledger
 * ({@link Ledger}) before returning, so the harness can compare what really ran with what the
 * server recorded.
 *
 * <p>Every step allows several attempts: a SIGKILLed worker's step comes back after its lease
 * expires, and that costs an attempt. The flaky step also fails its first attempt on purpose.
 */
public final class ChaosWorkflows {
  /** Name of the single-step workflow. */
  public static final String SINGLE = "chaos-single";
  /** Name of the 4-step DAG workflow (root, left, right, join). */
  public static final String DAG = "chaos-dag";
  /** Name of the workflow whose step fails its first attempt when {@code input.flaky}. */
  public static final String FLAKY = "chaos-flaky";
  /** Attempts per step. */
  public static final int MAX_ATTEMPTS = 5;

  private ChaosWorkflows() {}

  /** Records the execution and sleeps a little, like a short real step. */
  static void work(Ledger ledger, StepContext ctx) {
    ledger.record(ctx.runId(), ctx.stepName(), ctx.attempt());
    try {
      Thread.sleep(1 + (ctx.runId().hashCode() & 3));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One step. */
  @Workflow(name = SINGLE, version = "1", description = "chaos suite: one step")
  public static final class Single {
    private final Ledger ledger;

    /** @param ledger where executions are recorded */
    public Single(Ledger ledger) {
      this.ledger = ledger;
    }

    /** Records itself. */
    @Step(name = "only", maxAttempts = MAX_ATTEMPTS, initialBackoff = "100ms", maxBackoff = "1s")
    public String only(ChaosInput in, StepContext ctx) {
      work(ledger, ctx);
      return "ok";
    }
  }

  /** root, two parallel, join. */
  @Workflow(name = DAG, version = "1", description = "chaos suite: root, two parallel, join")
  public static final class Dag {
    private final Ledger ledger;

    /** @param ledger where executions are recorded */
    public Dag(Ledger ledger) {
      this.ledger = ledger;
    }

    /** Root. */
    @Step(name = "root", maxAttempts = MAX_ATTEMPTS, initialBackoff = "100ms", maxBackoff = "1s")
    public String root(ChaosInput in, StepContext ctx) {
      work(ledger, ctx);
      return "r";
    }

    /** Left branch. */
    @Step(name = "left", parents = "root", maxAttempts = MAX_ATTEMPTS, initialBackoff = "100ms", maxBackoff = "1s")
    public String left(StepContext ctx) {
      work(ledger, ctx);
      return "l";
    }

    /** Right branch. */
    @Step(name = "right", parents = "root", maxAttempts = MAX_ATTEMPTS, initialBackoff = "100ms", maxBackoff = "1s")
    public String right(StepContext ctx) {
      work(ledger, ctx);
      return "r";
    }

    /** Join. */
    @Step(name = "join", parents = {"left", "right"}, maxAttempts = MAX_ATTEMPTS, initialBackoff = "100ms",
        maxBackoff = "1s")
    public String join(StepContext ctx) {
      work(ledger, ctx);
      return "j";
    }
  }

  /** One step that fails its first attempt on purpose (when {@code input.flaky}). */
  @Workflow(name = FLAKY, version = "1", description = "chaos suite: fails the first attempt, then succeeds")
  public static final class Flaky {
    private final Ledger ledger;

    /** @param ledger where executions are recorded */
    public Flaky(Ledger ledger) {
      this.ledger = ledger;
    }

    /** Fails attempt 1 when flaky, after recording it. */
    @Step(name = "flaky", maxAttempts = MAX_ATTEMPTS, initialBackoff = "100ms", maxBackoff = "1s")
    public String flaky(ChaosInput in, StepContext ctx) {
      work(ledger, ctx);
      if (in.flaky() && ctx.attempt() == 1) {
        throw new IllegalStateException("chaos: deliberate failure of attempt 1");
      }
      return "ok";
    }
  }
}
