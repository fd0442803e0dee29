package dev.drover.sdk;

/**
 * Lifecycle state of one step of a run.
 *
 * <pre>{@code
 * run.steps().stream().filter(s -> s.status() == StepStatus.FAILED).forEach(...);
 * }</pre>
 */
public enum StepStatus {
  /** Waiting for its parents. */
  PENDING,
  /** Ready; waiting for a worker or for its retry delay. */
  QUEUED,
  /** Assigned to a worker. */
  RUNNING,
  /** Finished with an output. */
  SUCCEEDED,
  /** Failed for good. */
  FAILED,
  /** Cancelled with its run. */
  CANCELLED,
  /** Parents done; in a durable sleep or waiting for an event (holding no worker slot). */
  WAITING,
  /** Its skip condition held: never ran, counts as done. */
  SKIPPED;

  /** Whether the step can no longer change state. */
  public boolean isFinal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED || this == SKIPPED;
  }
}
