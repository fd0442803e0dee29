package dev.drover.server.transport.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineException;
import dev.drover.server.engine.RateLimits;
import dev.drover.server.engine.RateLimits.BucketView;
import dev.drover.server.engine.RateLimits.LimitView;
import dev.drover.server.engine.Text;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The HTTP API of rate limits (see ratelimits.proto for the semantics; instants are ISO-8601 UTC):
 *
 * <pre>
 * PUT    /api/v1/rate-limits/{name}         {"capacity": 50, "window": "second"|"minute"|"hour"|"day"} or {"capacity", "windowMs"}
 * GET    /api/v1/rate-limits                every limit with its global bucket
 * GET    /api/v1/rate-limits/{name}?top=20  one limit with its busiest keys and paused keys
 * DELETE /api/v1/rate-limits/{name}
 * POST   /api/v1/rate-limits/{name}/pause   {"key": "customer-42", "durationMs": 30000, "reason": "429 from upstream"}
 *                                           ("key" absent = the global bucket; durationMs 0 lifts the pause)
 * </pre>
 */
final class RateLimitRoutes {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final int MAX_BODY = 1024 * 1024;
    static final String PREFIX = "/api/v1/rate-limits";

    private final Engine engine;

    RateLimitRoutes(Engine engine) {
        this.engine = engine;
    }

    static boolean handles(String resource) {
        return resource.equals("rate-limits");
    }

    /** {@code parts}: ["", "api", "v1", "rate-limits", name?, action?]. */
    void route(HttpExchange ex, String method, String[] parts, String tenant) throws IOException {
        RateLimits limits = engine.rateLimits();
        String path = ex.getRequestURI().getPath();
        if (parts.length == 4) {
            if (!method.equals("GET")) throw new HttpTransport.HttpError(405, "method " + method + " not allowed on " + path);
            ObjectNode out = JSON.createObjectNode();
            ArrayNode arr = out.putArray("rateLimits");
            limits.list(tenant).forEach(l -> arr.add(limitJson(l)));
            HttpTransport.send(ex, 200, out);
            return;
        }
        if (parts.length > 6) throw noSuchEndpoint(method, path);
        String name = name(ex);
        String action = parts.length == 6 ? parts[5] : "";
        switch (method + " " + action) {
            case "PUT " -> {
                JsonNode b = body(ex);
                String window = text(b, "window");
                long windowMs = longField(b, "windowMs");
                if (window != null && windowMs != 0) throw invalid("window: give window or windowMs, not both");
                HttpTransport.send(ex, 200, limitJson(limits.put(tenant, name, intField(b, "capacity"), window, windowMs)));
            }
            case "GET " -> HttpTransport.send(ex, 200, limitJson(limits.get(tenant, name, top(ex))));
            case "DELETE " -> {
                limits.delete(tenant, name);
                HttpTransport.send(ex, 200, JSON.createObjectNode().put("deleted", true));
            }
            case "POST pause" -> {
                JsonNode b = body(ex);
                HttpTransport.send(ex, 200, bucketJson(limits.pause(tenant, name, text(b, "key"), longField(b, "durationMs"),
                        text(b, "reason"))));
            }
            default -> throw noSuchEndpoint(method, path);
        }
    }

    /** The name segment, percent-decoded from the raw path (so a name may contain '/' or '+' when encoded). */
    private static String name(HttpExchange ex) {
        String raw = ex.getRequestURI().getRawPath().replaceAll("/+$", "").split("/")[4];
        try {
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid("name: badly encoded path segment '" + Text.clip(raw, 80) + "'");
        }
    }

    private static int top(HttpExchange ex) {
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null) return 0;
        for (String kv : raw.split("&")) {
            if (!kv.startsWith("top=")) continue;
            try {
                return Integer.parseInt(kv.substring(4));
            } catch (NumberFormatException e) {
                throw invalid("top: expected an integer, got '" + Text.clip(kv.substring(4), 40) + "'");
            }
        }
        return 0;
    }

    private static EngineException noSuchEndpoint(String method, String path) {
        return new EngineException(EngineException.Kind.NOT_FOUND, "no such endpoint: " + method + " " + Text.clip(path, 200));
    }

    private static EngineException invalid(String message) {
        return new EngineException(EngineException.Kind.INVALID_ARGUMENT, message);
    }

    private static String text(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw invalid(field + ": expected a string");
        return n.asText();
    }

    private static long longField(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) return 0;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw invalid(field + ": expected an integer number of milliseconds");
        return n.asLong();
    }

    private static int intField(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) throw invalid(field + ": required, an integer of at least 1");
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw invalid(field + ": expected an integer of at least 1");
        return n.asInt();
    }

    private static JsonNode body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY && HttpTransport.discard(in) >= 0) throw invalid("body: larger than 1 MiB");
            if (bytes.length == 0) throw invalid("body: expected a JSON object");
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) throw invalid("body: expected a JSON object");
            return n;
        } catch (JsonProcessingException e) {
            throw invalid("body: not valid JSON: " + e.getOriginalMessage());
        }
    }

    static ObjectNode limitJson(LimitView l) {
        ObjectNode n = JSON.createObjectNode();
        n.put("name", l.name()).put("capacity", l.capacity()).put("window", l.window().isEmpty() ? null : l.window())
                .put("windowMs", l.windowMs()).put("createdAt", l.createdAt().toString()).put("updatedAt", l.updatedAt().toString())
                .put("now", Instant.ofEpochMilli(l.nowMs()).toString())
                .put("windowStart", Instant.ofEpochMilli(l.windowStartMs()).toString())
                .put("activeKeys", l.activeKeys()).put("pausedKeys", l.pausedKeys());
        ArrayNode arr = n.putArray("buckets");
        l.buckets().forEach(b -> arr.add(bucketJson(b)));
        return n;
    }

    static ObjectNode bucketJson(BucketView b) {
        ObjectNode n = JSON.createObjectNode();
        n.put("limit", b.limitName()).put("key", b.key()).put("used", b.used()).put("remaining", b.remaining())
                .put("pausedUntil", b.pausedUntilMs() == 0 ? null : Instant.ofEpochMilli(b.pausedUntilMs()).toString())
                .put("pauseReason", b.pauseReason());
        return n;
    }
}
