package dev.drover.sdk;

/**
 * Thrown by a step (directly, or anywhere in the cause chain of what it throws) to fail the run at
 * once instead of retrying: use it for errors that another attempt cannot fix, such as invalid
 * input.
 *
 * <pre>{@code
 * if (order.amount() <= 0) throw new NonRetryableException("amount must be positive");
 * }</pre>
 */
public class NonRetryableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that becomes the step's error. */
  public NonRetryableException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying cause. */
  public NonRetryableException(String message, Throwable cause) {
    super(message, cause);
  }
}
