package dev.drover.bench.chaos;

import dev.drover.sdk.Concurrency;
import dev.drover.sdk.Cron;
import dev.drover.sdk.RateLimit;
import dev.drover.sdk.RateLimitGrant;
import dev.drover.sdk.Step;
import dev.drover.sdk.StepContext;
import dev.drover.sdk.Workflow;
import java.util.UUID;

/**
 * The workflows of the fault-injection suite. Every step execution appends one row to the ledger
 * ({@link Ledger}) before returning, so the harness can compare what really ran with what the
 * server recorded.
 *
 * <p>Every step allows several attempts: a SIGKILLed worker's step comes back after its lease
 * expires, and that costs an attempt. The flaky step also fails its first attempt on purpose.
 *
 * <p>Flow control: {@link Ticker} fires every second by cron (its ledger rows carry the tick, so the
 * harness can show no tick was missed or fired twice), and {@link Limited} is capped at 2 running
 * runs per key (its ledger rows carry the key and the execution's start and end, so the harness can
 * show no key ever had more than 2 runs executing at once).
 *
 * <p>{@link Rated} draws from the rate limit {@link #RATE_LIMIT} ({@link #RATE} per second per
 * {@code input.k}, created by the harness). Its ledger rows carry the key and the window the server
 * granted the units in ({@link StepContext#rateLimitGrants()}), so the harness can count grants per
 * window; see {@code LedgerChecks.rates} for why grants and not start times.
 */
public final class ChaosWorkflows {
  /** Name of the single-step workflow. */
  public static final String SINGLE = "chaos-single";
  /** Name of the 4-step DAG workflow (root, left, right, join). */
  public static final String DAG = "chaos-dag";
  /** Name of the workflow whose step fails its first attempt when {@code input.flaky}. */
  public static final String FLAKY = "chaos-flaky";
  /** Name of the workflow fired every second by its cron. */
  public static final String CRON = "chaos-cron";
  /** Its cron expression: every second (6 fields, seconds first). */
  public static final String CRON_EXPRESSION = "* * * * * *";
  /** Name of the workflow limited to {@link #LIMIT} running runs per {@code input.k}. */
  public static final String LIMITED = "chaos-limited";
  /** Runs of {@link #LIMITED} allowed to run at once per key. */
  public static final int LIMIT = 2;
  /** Name of the rate-limited workflow. */
  public static final String RATED = "chaos-rated";
  /** The rate limit its step draws from (one bucket per {@code input.k}). */
  public static final String RATE_LIMIT = "chaos-rate";
  /** Capacity of {@link #RATE_LIMIT} per 1-second window. */
  public static final int RATE = 20;
  /** Attempts per step. */
  public static final int MAX_ATTEMPTS = 5;

  private ChaosWorkflows() {}

  /** Records the execution and sleeps a little (1-4 ms, plus the input's {@code workMs}), like a short real step. */
  static void work(Ledger ledger, StepContext ctx) {
    ledger.record(ctx.runId(), ctx.stepName(), ctx.attempt());
    nap(ctx);
  }

  /** Sleeps 1-4 ms, plus the input's {@code workMs}. */
  static void nap(StepContext ctx) {
    try {
      Thread.sleep(1 + (ctx.runId().hashCode() & 3) + Math.max(0, ctx.inputJson().path("workMs").asInt(0)));
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

  /** Input of {@link Limited}: the harness's key of the run and the concurrency key. */
  public record LimitedInput(String key, String k) {}

  /** Fired every second by its cron; records the tick ({@code drover.tick} metadata) in the ledger. */
  @Workflow(name = CRON, version = "1", description = "chaos suite: a 1-second cron")
  @Cron(value = CRON_EXPRESSION, name = "every-second")
  public static final class Ticker {
    private final Ledger ledger;

    /** @param ledger where executions are recorded */
    public Ticker(Ledger ledger) {
      this.ledger = ledger;
    }

    /** Records itself with its tick. */
    @Step(name = "tick", maxAttempts = MAX_ATTEMPTS, initialBackoff = "100ms", maxBackoff = "1s")
    public String tick(StepContext ctx) {
      ledger.record(ctx.runId(), ctx.stepName(), ctx.attempt(), ctx.metadata().get("drover.tick"));
      return "ok";
    }
  }

  /** At most {@link #LIMIT} runs per key at a time; records each execution's start and end. */
  @Workflow(name = LIMITED, version = "1", description = "chaos suite: 2 running runs per key")
  @Concurrency(key = "input.k", maxRunning = LIMIT)
  public static final class Limited {
    private final Ledger ledger;

    /** @param ledger where executions are recorded */
    public Limited(Ledger ledger) {
      this.ledger = ledger;
    }

    /** Records its start (with the key), works ~10 ms, records its end. */
    @Step(name = "limited", maxAttempts = MAX_ATTEMPTS, initialBackoff = "100ms", maxBackoff = "1s")
    public String limited(LimitedInput in, StepContext ctx) {
      UUID row = ledger.record(ctx.runId(), ctx.stepName(), ctx.attempt(), in.k());
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ledger.exit(row);
      return "ok";
    }
  }

  /**
   * At most {@link #RATE} starts per second per key; records each execution with its grant: tag
   * {@code <key>|<window start ms>|<units>} (tag "?" when the server sent no grant, which the
   * harness reports).
   */
  @Workflow(name = RATED, version = "1", description = "chaos suite: 20 per second per key")
  public static final class Rated {
    private final Ledger ledger;

    /** @param ledger where executions are recorded */
    public Rated(Ledger ledger) {
      this.ledger = ledger;
    }

    /** Records its start with the granted window, works 1-4 ms. */
    @Step(name = "rated", maxAttempts = MAX_ATTEMPTS, initialBackoff = "100ms", maxBackoff = "1s")
    @RateLimit(name = RATE_LIMIT, key = "input.k")
    public String rated(LimitedInput in, StepContext ctx) {
      String tag = "?";
      for (RateLimitGrant g : ctx.rateLimitGrants()) {
        if (g.limitName().equals(RATE_LIMIT)) tag = g.key() + "|" + g.windowStart().toEpochMilli() + "|" + g.units();
      }
      ledger.record(ctx.runId(), ctx.stepName(), ctx.attempt(), tag);
      nap(ctx);
      return "ok";
    }
  }
}
