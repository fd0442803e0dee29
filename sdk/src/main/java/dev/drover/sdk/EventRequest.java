package dev.drover.sdk;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An event to push ({@link DroverClient#push(EventRequest)}, {@link DroverClient#pushMany}); immutable,
 * built with "withers".
 *
 * <pre>{@code
 * client.push(EventRequest.of("order.paid", new Paid("o-1", 150))
 *     .withMetadata("source", "checkout")
 *     .withIdempotencyKey("paid-o-1"));
 * }</pre>
 *
 * @param name event name, e.g. {@code "order.paid"} (1-200 characters)
 * @param payload any Jackson-serializable value ({@code null} means {@code {}})
 * @param metadata string metadata, copied to the runs the event starts
 * @param idempotencyKey when set, a second push with the same key returns the first event and starts nothing
 */
public record EventRequest(String name, Object payload, Map<String, String> metadata, String idempotencyKey) {
  /** Checks the name and copies the metadata so the record stays immutable. */
  public EventRequest {
    Objects.requireNonNull(name, "name");
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }

  /** An event without metadata or idempotency key. */
  public static EventRequest of(String name, Object payload) {
    return new EventRequest(name, payload, Map.of(), null);
  }

  /** A copy with the given idempotency key ({@code null} clears it). */
  public EventRequest withIdempotencyKey(String key) {
    return new EventRequest(name, payload, metadata, key);
  }

  /** A copy whose metadata is replaced by {@code newMetadata}. */
  public EventRequest withMetadata(Map<String, String> newMetadata) {
    return new EventRequest(name, payload, newMetadata, idempotencyKey);
  }

  /** A copy with one more metadata entry. */
  public EventRequest withMetadata(String key, String value) {
    Map<String, String> m = new LinkedHashMap<>(metadata);
    m.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return new EventRequest(name, payload, m, idempotencyKey);
  }
}
