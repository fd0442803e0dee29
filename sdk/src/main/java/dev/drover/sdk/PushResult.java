package dev.drover.sdk;

import java.util.List;

/**
 * What a push did: the stored event and the runs it started.
 *
 * <pre>{@code
 * PushResult r = client.push("order.paid", new Paid("o-1", 150));
 * for (String runId : r.runIds()) client.handle(runId).await(Duration.ofMinutes(1));
 * }</pre>
 *
 * @param eventId the event's id (UUID)
 * @param created {@code false} when the push repeated a stored event (same idempotency key, or a
 *     retry of the same call): nothing was started, and {@code runIds} are the runs it started first
 * @param runIds the runs of the workflows listening to the event, one per workflow; empty when none listens
 */
public record PushResult(String eventId, boolean created, List<String> runIds) {
  /** Copies the list so the record stays immutable. */
  public PushResult {
    runIds = runIds == null ? List.of() : List.copyOf(runIds);
  }
}
