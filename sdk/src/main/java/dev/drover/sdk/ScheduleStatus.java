package dev.drover.sdk;

/**
 * Where a one-time schedule is in its life.
 *
 * <pre>{@code
 * if (client.getSchedule(id).status() == ScheduleStatus.FIRED) { ... }
 * }</pre>
 */
public enum ScheduleStatus {
  /** Waiting for its instant. */
  SCHEDULED,
  /** Its run was started ({@link ScheduleInfo#runId()}). */
  FIRED,
  /** Deleted before it fired. */
  CANCELLED,
  /** Its instant came but the run could not be started ({@link ScheduleInfo#error()}). */
  FAILED
}
