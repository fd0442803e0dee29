package dev.drover.server.transport.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineException;
import dev.drover.server.engine.Text;
import dev.drover.server.engine.WorkerRegistry.WorkerView;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;

/**
 * The HTTP API of workers (see workers.proto for what pausing and draining mean):
 *
 * <pre>
 * GET  /api/v1/workers                    {"workers": [...]}, ordered by name
 * GET  /api/v1/workers/{id}
 * POST /api/v1/workers/{id}/pause         no new work; in-flight attempts finish
 * POST /api/v1/workers/{id}/resume
 * POST /api/v1/workers/{id}/drain?waitMs= paused as draining; with waitMs, answers once drained (or waitMs passed)
 * </pre>
 *
 * A worker is {"id", "name", "labels", "slots", "usedSlots", "inFlight", "state": "active"|"paused"|"draining",
 * "drained", "alive", "lastHeartbeat", "registeredAt", "actions", "sdk"}.
 */
final class WorkerRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Engine engine;

    WorkerRoutes(Engine engine) {
        this.engine = engine;
    }

    static boolean handles(String resource) {
        return resource.equals("workers");
    }

    /** {@code parts}: ["", "api", "v1", "workers", id?, action?]. */
    void route(HttpExchange ex, String method, String[] parts, String tenant) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (method.equals("POST")) HttpTransport.drain(ex);
        if (parts.length == 4 && method.equals("GET")) {
            ObjectNode out = JSON.createObjectNode();
            var arr = out.putArray("workers");
            engine.workers().list(tenant).forEach(w -> arr.add(workerJson(w)));
            send(ex, out);
            return;
        }
        if (parts.length < 5 || parts.length > 6) throw noSuchEndpoint(method, path);
        String id = parts[4];
        String action = parts.length == 6 ? parts[5] : "";
        WorkerView w = switch (method + " " + action) {
            case "GET " -> engine.workers().get(tenant, id);
            case "POST pause" -> engine.workers().setState(tenant, id, "paused");
            case "POST resume" -> engine.workers().setState(tenant, id, "active");
            case "POST drain" -> engine.workers().drain(tenant, id, Duration.ofMillis(waitMs(ex)));
            default -> throw noSuchEndpoint(method, path);
        };
        send(ex, workerJson(w));
    }

    private static long waitMs(HttpExchange ex) {
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null) return 0;
        for (String kv : raw.split("&")) {
            if (!kv.startsWith("waitMs=")) continue;
            String v = kv.substring("waitMs=".length());
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new EngineException(EngineException.Kind.INVALID_ARGUMENT,
                        "waitMs: expected an integer number of milliseconds, got '" + Text.clip(v, 40) + "'");
            }
        }
        return 0;
    }

    static ObjectNode workerJson(WorkerView w) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", w.id()).put("name", w.name());
        n.set("labels", JSON.valueToTree(w.labels()));
        n.put("slots", w.slots()).put("usedSlots", w.usedSlots()).put("inFlight", w.inFlight()).put("state", w.state())
                .put("drained", w.drained()).put("alive", w.alive()).put("lastHeartbeat", str(w.lastHeartbeatAt()))
                .put("registeredAt", str(w.registeredAt()));
        n.set("actions", JSON.valueToTree(w.actions()));
        n.put("sdk", w.sdk());
        return n;
    }

    private static String str(Instant t) {
        return t == null ? null : t.toString();
    }

    private static EngineException noSuchEndpoint(String method, String path) {
        return new EngineException(EngineException.Kind.NOT_FOUND, "no such endpoint: " + method + " " + Text.clip(path, 200));
    }

    private static void send(HttpExchange ex, ObjectNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, bytes.length);
        ex.getResponseBody().write(bytes);
    }
}
