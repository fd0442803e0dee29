package dev.drover.sdk;

import dev.drover.sdk.internal.WorkerRuntime;
import java.time.Duration;

/**
 * A running worker: it holds a stream of step assignments from the server, executes each attempt
 * on its own virtual thread, reports results (retrying until acknowledged) and reconnects by
 * itself after server restarts or network failures. Create one with {@link
 * DroverClient#newWorker(String)}.
 *
 * <pre>{@code
 * try (Worker worker = client.newWorker("orders").register(new OrderWorkflow()).start()) {
 *   awaitShutdownSignal();
 * } // close(): drains running steps for up to 30 s
 * }</pre>
 */
public final class Worker implements AutoCloseable {
  private final WorkerRuntime runtime;
  private final Runnable onClose;

  Worker(WorkerRuntime runtime, Runnable onClose) {
    this.runtime = runtime;
    this.onClose = onClose;
  }

  /** The name given to {@link DroverClient#newWorker(String)}. */
  public String name() {
    return runtime.name();
  }

  /** The id the server assigned at the latest registration. */
  public String workerId() {
    return runtime.workerId();
  }

  /** Number of step attempts currently executing. */
  public int inFlight() {
    return runtime.inFlight();
  }

  /** Whether the assignment stream is currently open (false while reconnecting). */
  public boolean isConnected() {
    return runtime.isConnected();
  }

  /** Same as {@code close(Duration.ofSeconds(30))}. */
  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }

  /**
   * Stops taking work, waits up to {@code drainDeadline} for running steps, reports the ones still
   * running as cancelled (after interrupting them), and flushes all pending reports. Idempotent.
   * The channel belongs to the client and stays open.
   */
  public void close(Duration drainDeadline) {
    try {
      runtime.close(drainDeadline);
    } finally {
      onClose.run();
    }
  }
}
