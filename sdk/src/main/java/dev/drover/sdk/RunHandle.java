package dev.drover.sdk;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A triggered (or looked-up) run.
 *
 * <pre>{@code
 * RunHandle h = client.run(OrderWorkflow.class, order);
 * Receipt receipt = h.result(Receipt.class).get(5, TimeUnit.MINUTES);
 * }</pre>
 */
public final class RunHandle {
  private final DroverClient client;
  private final String runId;
  private final boolean created;
  private CompletableFuture<RunInfo> completion;

  RunHandle(DroverClient client, String runId, boolean created) {
    this.client = client;
    this.runId = runId;
    this.created = created;
  }

  /** The run's id. */
  public String runId() {
    return runId;
  }

  /** False when an idempotency key matched an existing run, which this handle then refers to. */
  public boolean created() {
    return created;
  }

  /** Fetches the run's current state. */
  public RunInfo status() {
    return client.getRun(runId);
  }

  /** Waits up to {@code timeout} for a final state; returns the state at that point. */
  public RunInfo await(Duration timeout) {
    return client.awaitRun(runId, timeout);
  }

  /**
   * A future of the run's output: completes with the output deserialized to {@code type} when
   * the run SUCCEEDED, or exceptionally with {@link RunFailedException} when it FAILED or was
   * CANCELLED (or with {@link DroverException} for a non-transient server error). A background
   * virtual thread waits for the run; it survives transient unavailability of the server.
   */
  public <T> CompletableFuture<T> result(Class<T> type) {
    return completion()
        .thenApply(
            run -> {
              if (run.status() != RunStatus.SUCCEEDED) {
                throw new RunFailedException(run);
              }
              return run.output(type);
            });
  }

  /** A future of the run's final state (whatever the outcome). */
  public synchronized CompletableFuture<RunInfo> completion() {
    // One waiter thread per handle, however many result() futures are derived from it.
    if (completion == null) {
      completion = client.watch(runId);
    }
    return completion;
  }

  @Override
  public String toString() {
    return "RunHandle[" + runId + (created ? "" : ", existing") + "]";
  }
}
