package dev.drover.sdk;

/**
 * Thrown by {@link StepContext#throwIfCancelled()} when the attempt was cancelled (run cancelled,
 * execution timeout, or worker shutdown). Let it propagate: the worker reports the attempt as
 * cancelled.
 *
 * <pre>{@code
 * for (Item item : items) { ctx.throwIfCancelled(); process(item); }
 * }</pre>
 */
public class StepCancelledException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message describing why the attempt stopped. */
  public StepCancelledException(String message) {
    super(message);
  }
}
