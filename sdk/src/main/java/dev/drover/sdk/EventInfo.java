package dev.drover.sdk;

import dev.drover.sdk.internal.Json;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A stored event.
 *
 * <pre>{@code
 * EventInfo e = client.getEvent(id);
 * Paid paid = e.payload(Paid.class);
 * System.out.println(e.name() + " started " + e.runIds());
 * }</pre>
 *
 * @param id event id (UUID)
 * @param name event name
 * @param payloadJson the payload as JSON text
 * @param metadata string metadata given at push time
 * @param idempotencyKey the key given at push time, or {@code null}
 * @param createdAt when it was stored
 * @param runIds every run it started, replays included, oldest first ({@link DroverClient#getEvent}
 *     only; empty in {@link DroverClient#listEvents} results)
 */
public record EventInfo(
    String id,
    String name,
    String payloadJson,
    Map<String, String> metadata,
    String idempotencyKey,
    Instant createdAt,
    List<String> runIds) {

  /** Copies collections so the record stays immutable. */
  public EventInfo {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    runIds = runIds == null ? List.of() : List.copyOf(runIds);
  }

  /**
   * The payload deserialized to {@code type}.
   *
   * @throws IllegalArgumentException when the payload does not match {@code type}
   */
  public <T> T payload(Class<T> type) {
    return Json.read(payloadJson, type, "payload of event " + id);
  }
}
