package dev.drover.sdk;

/**
 * Lifecycle state of a run.
 *
 * <pre>{@code
 * if (client.getRun(id).status().isFinal()) { ... }
 * }</pre>
 */
public enum RunStatus {
  /** Stored, no step started yet. */
  QUEUED,
  /** At least one step started. */
  RUNNING,
  /** All steps succeeded. */
  SUCCEEDED,
  /** A step failed for good. */
  FAILED,
  /** Cancelled by a client. */
  CANCELLED;

  /** Whether the run can no longer change state. */
  public boolean isFinal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }
}
