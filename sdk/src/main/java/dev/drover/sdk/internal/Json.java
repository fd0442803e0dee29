package dev.drover.sdk.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The SDK's single Jackson mapper and helpers that turn Jackson's checked exceptions into
 * unchecked ones with a message saying what was being (de)serialized.
 *
 * <pre>{@code
 * String json = Json.write(order, "input of workflow order");
 * }</pre>
 */
public final class Json {
  /**
   * Shared mapper. Unknown properties are ignored so that a producer can add fields without
   * breaking older consumers; dates are ISO strings so workers in other languages can read them.
   */
  public static final ObjectMapper MAPPER =
      // Steps run on virtual threads, so Jackson's default buffer pool (one per thread, in a
      // ThreadLocal) never reused a buffer: every input read and output written allocated and threw
      // away its buffers, 13% of a worker's CPU in the burn-down profile. A shared pool reuses them.
      JsonMapper.builder(
              com.fasterxml.jackson.core.JsonFactory.builder()
                  .recyclerPool(com.fasterxml.jackson.core.util.JsonRecyclerPools.newConcurrentDequePool())
                  .build())
          .addModule(new JavaTimeModule())
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .build();

  private Json() {}

  /** Serializes {@code value}; {@code what} names it in the error message. */
  public static String write(Object value, String what) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "cannot serialize " + what + " (" + value.getClass().getName() + ") to JSON: "
              + e.getOriginalMessage(),
          e);
    }
  }

  /** Deserializes {@code json} ({@code null}/blank gives {@code null}). */
  public static <T> T read(String json, Class<T> type, String what) {
    return read(json, MAPPER.constructType(type), what);
  }

  /** Deserializes {@code json} to a generic type ({@code null}/blank gives {@code null}). */
  public static <T> T read(String json, JavaType type, String what) {
    if (json == null || json.isBlank()) {
      return null;
    }
    try {
      return MAPPER.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "cannot deserialize " + what + " to " + type.toCanonical() + ": " + e.getOriginalMessage(),
          e);
    }
  }

  /** Parses {@code json} into a tree; {@code null}/blank gives {@link NullNode}. */
  public static JsonNode tree(String json, String what) {
    if (json == null || json.isBlank()) {
      return NullNode.getInstance();
    }
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "cannot parse " + what + " as JSON: " + e.getOriginalMessage(), e);
    }
  }
}
