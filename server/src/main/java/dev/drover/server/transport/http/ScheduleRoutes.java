package dev.drover.server.transport.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineException;
import dev.drover.server.engine.Schedules;
import dev.drover.server.engine.Schedules.CronView;
import dev.drover.server.engine.Schedules.ScheduleView;
import dev.drover.server.engine.Text;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The HTTP API of crons and one-time schedules (instants are ISO-8601 UTC strings):
 *
 * <pre>
 * POST   /api/v1/crons                    {"workflow", "expression", "timeZone"?, "name"?, "input"?, "metadata"?,
 *                                          "missedTicks"?: "fire_once"|"skip", "paused"?}
 * GET    /api/v1/crons?workflow=
 * GET    /api/v1/crons/{id}
 * POST   /api/v1/crons/{id}/pause
 * POST   /api/v1/crons/{id}/resume
 * DELETE /api/v1/crons/{id}
 * POST   /api/v1/schedules                {"workflow", "input"?, "metadata"?, and one of "fireAt" (ISO instant),
 *                                          "fireAtMs" (epoch ms) or "delayMs"}
 * GET    /api/v1/schedules?workflow=&amp;status=&amp;limit=
 * GET    /api/v1/schedules/{id}
 * POST   /api/v1/schedules/{id}/reschedule {"fireAt" | "fireAtMs" | "delayMs"}
 * DELETE /api/v1/schedules/{id}           cancels it (it stays listed as cancelled)
 * </pre>
 */
final class ScheduleRoutes {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final int MAX_BODY = 16 * 1024 * 1024;

    private final Engine engine;

    ScheduleRoutes(Engine engine) {
        this.engine = engine;
    }

    static boolean handles(String resource) {
        return resource.equals("crons") || resource.equals("schedules");
    }

    /** {@code parts}: ["", "api", "v1", "crons"|"schedules", id?, action?]. */
    void route(HttpExchange ex, String method, String[] parts, String tenant) throws IOException {
        Schedules s = engine.schedules();
        boolean crons = parts[3].equals("crons");
        String path = ex.getRequestURI().getPath();
        Map<String, String> q = query(ex);
        if (parts.length == 4) {
            if (method.equals("POST")) {
                JsonNode b = body(ex);
                if (crons) {
                    CronView c = s.createCron(tenant, new Schedules.NewCron(requiredText(b, "workflow"), text(b, "name"),
                            requiredText(b, "expression"), text(b, "timeZone"), json(b, "input"), metadata(b), text(b, "missedTicks"),
                            bool(b, "paused")));
                    send(ex, 201, cronJson(c));
                } else {
                    long[] when = when(b);
                    // "scheduleId" (optional, a UUID chosen by the client) makes the POST safe to retry.
                    send(ex, 201, scheduleJson(s.createSchedule(tenant, requiredText(b, "workflow"), json(b, "input"), metadata(b),
                            when[0], when[1], text(b, "scheduleId"))));
                }
            } else if (method.equals("GET")) {
                ObjectNode out = JSON.createObjectNode();
                if (crons) {
                    var arr = out.putArray("crons");
                    s.listCrons(tenant, q.get("workflow")).forEach(c -> arr.add(cronJson(c)));
                } else {
                    var arr = out.putArray("schedules");
                    s.listSchedules(tenant, q.get("workflow"), q.get("status"), intParam(q, "limit", 100))
                            .forEach(x -> arr.add(scheduleJson(x)));
                }
                send(ex, 200, out);
            } else {
                throw noSuchEndpoint(method, path);
            }
            return;
        }
        String id = parts[4];
        String action = parts.length == 6 ? parts[5] : null;
        if (parts.length > 6) throw noSuchEndpoint(method, path);
        switch (method + " " + (action == null ? "" : action)) {
            case "GET " -> send(ex, 200, crons ? cronJson(s.getCron(tenant, id)) : scheduleJson(s.getSchedule(tenant, id)));
            case "DELETE " -> {
                if (crons) {
                    s.deleteCron(tenant, id);
                    send(ex, 200, JSON.createObjectNode().put("deleted", true));
                } else {
                    send(ex, 200, scheduleJson(s.deleteSchedule(tenant, id)));
                }
            }
            case "POST pause" -> {
                if (!crons) throw noSuchEndpoint(method, path);
                HttpTransport.drain(ex);
                send(ex, 200, cronJson(s.pauseCron(tenant, id)));
            }
            case "POST resume" -> {
                if (!crons) throw noSuchEndpoint(method, path);
                HttpTransport.drain(ex);
                send(ex, 200, cronJson(s.resumeCron(tenant, id)));
            }
            case "POST reschedule" -> {
                if (crons) throw noSuchEndpoint(method, path);
                long[] when = when(body(ex));
                send(ex, 200, scheduleJson(s.reschedule(tenant, id, when[0], when[1])));
            }
            default -> throw noSuchEndpoint(method, path);
        }
    }

    private static EngineException noSuchEndpoint(String method, String path) {
        return new EngineException(EngineException.Kind.NOT_FOUND, "no such endpoint: " + method + " " + Text.clip(path, 200));
    }

    private static EngineException invalid(String message) {
        return new EngineException(EngineException.Kind.INVALID_ARGUMENT, message);
    }

    /** {fire_at_ms, delay_ms} from "fireAt" (ISO instant), "fireAtMs" or "delayMs"; the engine checks that one is given. */
    private static long[] when(JsonNode b) {
        long fireAtMs = 0;
        String at = text(b, "fireAt");
        if (at != null) {
            try {
                fireAtMs = Instant.parse(at).toEpochMilli();
            } catch (DateTimeParseException | ArithmeticException e) {
                throw invalid("fireAt: expected an ISO-8601 instant such as 2030-01-31T07:00:00Z, got '" + Text.clip(at, 80) + "'");
            }
            if (fireAtMs <= 0) throw invalid("fireAt: must be after 1970-01-01T00:00:00Z");
        }
        long ms = longField(b, "fireAtMs");
        if (ms != 0 && at != null) throw invalid("fireAt: give fireAt or fireAtMs, not both");
        return new long[] {at != null ? fireAtMs : ms, longField(b, "delayMs")};
    }

    private static long longField(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) return 0;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw invalid(field + ": expected an integer number of milliseconds");
        return n.asLong();
    }

    private static String requiredText(JsonNode b, String field) {
        String v = text(b, field);
        if (v == null || v.isBlank()) throw invalid(field + ": required");
        return v;
    }

    private static String text(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw invalid(field + ": expected a string");
        return n.asText();
    }

    private static boolean bool(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) return false;
        if (!n.isBoolean()) throw invalid(field + ": expected true or false");
        return n.asBoolean();
    }

    /** Any JSON value, as text; absent means {}. */
    private static String json(JsonNode b, String field) {
        JsonNode n = b.get(field);
        return n == null ? "{}" : n.toString();
    }

    private static Map<String, String> metadata(JsonNode b) {
        Map<String, String> out = new HashMap<>();
        JsonNode md = b.get("metadata");
        if (md == null || md.isNull()) return out;
        if (!md.isObject()) throw invalid("metadata: expected an object of strings");
        for (Iterator<Map.Entry<String, JsonNode>> it = md.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual()) throw invalid("metadata." + Text.clip(e.getKey(), 40) + ": expected a string");
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    private static JsonNode body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY && HttpTransport.discard(in) >= 0) throw invalid("body: larger than 16 MiB");
            if (bytes.length == 0) throw invalid("body: expected a JSON object");
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) throw invalid("body: expected a JSON object");
            return n;
        } catch (JsonProcessingException e) {
            throw invalid("body: not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static Map<String, String> query(HttpExchange ex) {
        Map<String, String> out = new HashMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null) return out;
        for (String kv : raw.split("&")) {
            if (kv.isEmpty()) continue;
            String[] p = kv.split("=", 2);
            try {
                out.put(URLDecoder.decode(p[0], StandardCharsets.UTF_8), p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
            } catch (IllegalArgumentException e) {
                throw invalid("query: badly encoded parameter '" + Text.clip(kv, 80) + "'");
            }
        }
        return out;
    }

    private static int intParam(Map<String, String> q, String name, int dflt) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) return dflt;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw invalid(name + ": expected an integer, got '" + Text.clip(v, 40) + "'");
        }
    }

    static ObjectNode cronJson(CronView c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", c.id()).put("workflow", c.workflowName()).put("name", c.name()).put("expression", c.expression())
                .put("timeZone", c.timeZone());
        n.set("input", parse(c.inputJson()));
        n.set("metadata", JSON.valueToTree(c.metadata()));
        n.put("missedTicks", c.missedTicks()).put("paused", c.paused()).put("source", c.source())
                .put("nextFireAt", str(c.nextFireAt())).put("lastTick", str(c.lastTickAt())).put("lastRunId", c.lastRunId())
                .put("lastError", c.lastError()).put("createdAt", str(c.createdAt()));
        return n;
    }

    static ObjectNode scheduleJson(ScheduleView s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", s.id()).put("workflow", s.workflowName());
        n.set("input", parse(s.inputJson()));
        n.set("metadata", JSON.valueToTree(s.metadata()));
        n.put("fireAt", str(s.fireAt())).put("status", s.status()).put("runId", s.runId()).put("firedAt", str(s.firedAt()))
                .put("error", s.error()).put("createdAt", str(s.createdAt()));
        return n;
    }

    private static String str(Instant t) {
        return t == null ? null : t.toString();
    }

    private static JsonNode parse(String json) {
        if (json == null) return null;
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            return JSON.getNodeFactory().textNode(json);
        }
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }
}
