package dev.drover.server.transport.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.Events;
import dev.drover.server.engine.Events.EventView;
import dev.drover.server.engine.Events.PushCommand;
import dev.drover.server.engine.Events.PushResult;
import dev.drover.server.engine.Text;
import dev.drover.server.transport.http.HttpTransport.HttpError;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The events part of the HTTP API.
 *
 * <pre>
 * POST /api/v1/events                {"name": "order.paid", "payload": {...}, "metadata": {"k": "v"}, "idempotencyKey": "...",
 *                                     "eventId": "&lt;uuid, optional: makes retries safe&gt;"}
 *                                    → 201 {"eventId", "created": true, "runIds": [...]}, or 200 with created=false for a repeat
 * POST /api/v1/events/bulk           {"events": [ ...up to 10,000 of the above ]} → 200 {"events": [...]}; all or none
 * GET  /api/v1/events?name=&limit=&before=    newest first; name exact or a wildcard ("order.*")
 * GET  /api/v1/events/{id}           the event with every run it started
 * POST /api/v1/events/{id}/replay    → 200 {"runIds": [...]}
 * </pre>
 */
final class EventRoutes {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final int MAX_BODY = 16 * 1024 * 1024;

    private final Engine engine;

    EventRoutes(Engine engine) {
        this.engine = engine;
    }

    /** {@code parts} is the path split on "/": ["", "api", "v1", "events", id or "bulk"?, action?]. */
    void route(HttpExchange ex, String method, String[] parts, String tenant) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (parts.length == 4) {
            switch (method) {
                case "POST" -> {
                    PushResult r = engine.events().push(command(tenant, body(ex), ""));
                    HttpTransport.send(ex, r.created() ? 201 : 200, result(r));
                }
                case "GET" -> {
                    Map<String, String> q = query(ex);
                    ArrayNode arr = JSON.createArrayNode();
                    for (EventView e : engine.events().list(tenant, q.get("name"), q.get("before"), intParam(q, "limit", 50))) {
                        arr.add(event(e));
                    }
                    ObjectNode out = JSON.createObjectNode();
                    out.set("events", arr);
                    HttpTransport.send(ex, 200, out);
                }
                default -> throw new HttpError(405, "method " + method + " not allowed on " + path);
            }
            return;
        }
        if (parts.length == 5 && parts[4].equals("bulk") && method.equals("POST")) {
            JsonNode body = body(ex);
            JsonNode events = body.get("events");
            if (events == null || !events.isArray()) throw new HttpError(400, "events: expected an array of events");
            if (events.size() > Events.MAX_BATCH) {
                throw new HttpError(400, "events: at most " + Events.MAX_BATCH + " per call, got " + events.size());
            }
            List<PushCommand> cmds = new ArrayList<>(events.size());
            for (int i = 0; i < events.size(); i++) cmds.add(command(tenant, events.get(i), "events[" + i + "]."));
            ArrayNode arr = JSON.createArrayNode();
            for (PushResult r : engine.events().pushAll(cmds)) arr.add(result(r));
            ObjectNode out = JSON.createObjectNode();
            out.set("events", arr);
            HttpTransport.send(ex, 200, out);
        } else if (parts.length == 5 && method.equals("GET")) {
            HttpTransport.send(ex, 200, event(engine.events().get(tenant, parts[4])));
        } else if (parts.length == 6 && parts[5].equals("replay") && method.equals("POST")) {
            ObjectNode out = JSON.createObjectNode();
            out.set("runIds", JSON.valueToTree(engine.events().replay(tenant, parts[4])));
            HttpTransport.send(ex, 200, out);
        } else {
            throw new HttpError(404, "no such endpoint: " + method + " " + path);
        }
    }

    private static PushCommand command(String tenant, JsonNode body, String p) {
        if (body == null || !body.isObject()) throw new HttpError(400, (p.isEmpty() ? "body" : p.substring(0, p.length() - 1)) + ": expected a JSON object");
        JsonNode name = body.get("name");
        if (name == null || !name.isTextual() || name.asText().isBlank()) {
            throw new HttpError(400, p + "name: required, the event's name (e.g. \"order.paid\")");
        }
        JsonNode payload = body.get("payload");
        Map<String, String> metadata = new HashMap<>();
        JsonNode md = body.get("metadata");
        if (md != null && !md.isNull()) {
            if (!md.isObject()) throw new HttpError(400, p + "metadata: expected an object of strings");
            for (Iterator<Map.Entry<String, JsonNode>> it = md.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getValue().isTextual()) {
                    throw new HttpError(400, p + "metadata." + Text.clip(e.getKey(), 40) + ": expected a string");
                }
                metadata.put(e.getKey(), e.getValue().asText());
            }
        }
        return new PushCommand(tenant, name.asText(), payload == null || payload.isNull() ? "{}" : payload.toString(), metadata,
                optText(body, "idempotencyKey", p), optText(body, "eventId", p));
    }

    private static String optText(JsonNode body, String field, String p) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw new HttpError(400, p + field + ": expected a string");
        return n.asText();
    }

    private static ObjectNode result(PushResult r) {
        ObjectNode n = JSON.createObjectNode().put("eventId", r.eventId()).put("created", r.created());
        n.set("runIds", JSON.valueToTree(r.runIds()));
        return n;
    }

    private static ObjectNode event(EventView e) {
        ObjectNode n = JSON.createObjectNode().put("id", e.id()).put("name", e.name());
        n.set("payload", parse(e.payloadJson()));
        n.set("metadata", JSON.valueToTree(e.metadata()));
        n.put("idempotencyKey", e.idempotencyKey()).put("createdAt", e.createdAt() == null ? null : e.createdAt().toString());
        n.set("runIds", JSON.valueToTree(e.runIds()));
        return n;
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            return JSON.getNodeFactory().textNode(json);
        }
    }

    private static JsonNode body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY && HttpTransport.discard(in) >= 0) throw new HttpError(413, "body: larger than 16 MiB");
            if (bytes.length == 0) throw new HttpError(400, "body: expected a JSON object");
            JsonNode n = JSON.readTree(bytes);
            if (!n.isObject()) throw new HttpError(400, "body: expected a JSON object");
            return n;
        } catch (JsonProcessingException e) {
            throw new HttpError(400, "body: not valid JSON: " + e.getOriginalMessage());
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
                throw new HttpError(400, "query: badly encoded parameter '" + Text.clip(kv, 80) + "'");
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
            throw new HttpError(400, name + ": expected an integer, got '" + Text.clip(v, 40) + "'");
        }
    }
}
