package dev.drover.server.transport.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.drover.server.engine.Engine;
import dev.drover.server.engine.EngineException;
import dev.drover.server.engine.EngineSettings;
import dev.drover.server.engine.Views.RunView;
import dev.drover.server.engine.Views.StepView;
import dev.drover.server.engine.Views.TriggerCommand;
import dev.drover.server.engine.Views.TriggerResult;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint: health probes and a small JSON API for runs. The JDK's built-in server on
 * virtual threads is enough for this surface and keeps the server free of a web framework.
 *
 * <pre>
 * GET  /healthz                      200 when the process is up (no auth)
 * GET  /readyz                       200 when the database answers, else 503 (no auth)
 * POST /api/v1/runs                  {"workflow": "...", "input": {...}, "metadata": {...}, "idempotencyKey": "...", "runId": "<uuid, optional: makes retries safe>",
 *                                     "parentRunId", "parentStep", "childIndex" (optional: a child run)}
 * GET  /api/v1/runs?workflow=&status=&limit=&before=
 * GET  /api/v1/runs/{id}             the run with its steps and failed attempts
 * GET  /api/v1/runs/{id}/await?timeoutMs=
 * POST /api/v1/runs/{id}/cancel
 * POST /api/v1/runs/{id}/replay      {"fromStep": "charge"} (optional): run a finished run again in place
 * POST /api/v1/runs/replay           {"workflow", "status", "createdAfter", "createdBefore", "metadata", "fromStep", "limit"}
 * ...  /api/v1/events...             see {@link EventRoutes}
 * /api/v1/crons..., /api/v1/schedules...   see {@link ScheduleRoutes}
 * /api/v1/workers...                 see {@link WorkerRoutes}
 * /api/v1/rate-limits...                   see {@link RateLimitRoutes}
 * </pre>
 */
public final class HttpTransport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpTransport.class);
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            // A body is one JSON value: "{...} garbage" is refused, not half-read.
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // Numbers pass through exactly (1e999999 stays itself and is refused, not turned into Infinity).
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Engine engine;
    private final byte[] expectedAuth;
    private final EventRoutes events;

    public HttpTransport(Engine engine, String bindAddress, int port, String token) throws IOException {
        this.engine = engine;
        this.events = new EventRoutes(engine);
        this.expectedAuth = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        this.server = HttpServer.create(new InetSocketAddress(bindAddress, port), 512);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    public HttpTransport start() {
        server.start();
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    static final class HttpError extends RuntimeException {
        final int status;

        HttpError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private void handle(HttpExchange ex) {
        try (ex) {
            try {
                route(ex);
            } catch (HttpError e) {
                unread(ex);
                send(ex, e.status, error(e.getMessage()));
            } catch (RuntimeException e) {
                unread(ex);
                RuntimeException c = EngineException.classify(e);
                if (c instanceof EngineException ee) {
                    int status = switch (ee.kind()) {
                        case INVALID_ARGUMENT -> 400;
                        case NOT_FOUND -> 404;
                        case FAILED_PRECONDITION -> 409;
                        case UNAVAILABLE -> 503;
                    };
                    if (status == 503) ex.getResponseHeaders().add("Retry-After", "1");
                    send(ex, status, error(ee.getMessage()));
                } else {
                    log.error("Unexpected failure on {} {}", ex.getRequestMethod(), ex.getRequestURI(), e);
                    send(ex, 500, error("internal error"));
                }
            }
        } catch (IOException e) {
            log.debug("HTTP exchange failed: {}", e.toString());
        }
    }

    private void route(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        // An unread body would reset the connection under our reply. PUT has a body only for rate limits.
        if (!method.equals("POST") && !(method.equals("PUT") && path.startsWith(RateLimitRoutes.PREFIX + "/"))) drain(ex);
        if (path.equals("/healthz")) {
            send(ex, 200, JSON.createObjectNode().put("status", "ok"));
            return;
        }
        if (path.equals("/readyz")) {
            boolean ok = engine.databaseReachable();
            if (!ok) ex.getResponseHeaders().add("Retry-After", "1");
            send(ex, ok ? 200 : 503, JSON.createObjectNode().put("status", ok ? "ready" : "database unreachable"));
            return;
        }
        if (!path.startsWith("/api/")) throw new HttpError(404, "no such endpoint: " + path);
        authenticate(ex);
        String tenant = EngineSettings.DEFAULT_TENANT;
        String[] parts = path.replaceAll("/+$", "").split("/");
        if (parts.length >= 4 && parts[2].equals("v1") && parts[3].equals("events")) {
            events.route(ex, method, parts, tenant);
            return;
        }
        // ["", "api", "v1", "runs", id?, action?]
        if (parts.length >= 4 && parts[2].equals("v1") && ScheduleRoutes.handles(parts[3])) {
            new ScheduleRoutes(engine).route(ex, method, parts, tenant);
            return;
        }
        if (parts.length >= 4 && parts[2].equals("v1") && WorkerRoutes.handles(parts[3])) {
            new WorkerRoutes(engine).route(ex, method, parts, tenant);
            return;
        }
        if (parts.length >= 4 && parts[2].equals("v1") && RateLimitRoutes.handles(parts[3])) {
            new RateLimitRoutes(engine).route(ex, method, parts, tenant);
            return;
        }
        if (parts.length < 4 || !parts[2].equals("v1") || !parts[3].equals("runs")) {
            throw new HttpError(404, "no such endpoint: " + path);
        }
        Map<String, String> q = query(ex);
        if (parts.length == 4) {
            switch (method) {
                case "POST" -> {
                    TriggerResult r = engine.runs().trigger(triggerCommand(tenant, body(ex)));
                    send(ex, r.created() ? 201 : 200, JSON.createObjectNode().put("runId", r.runId()).put("created", r.created()));
                }
                case "GET" -> {
                    var arr = JSON.createArrayNode();
                    for (RunView r : engine.runs().list(tenant, q.get("workflow"), q.get("status"), q.get("before"),
                            intParam(q, "limit", 50))) {
                        arr.add(runJson(r));
                    }
                    send(ex, 200, JSON.createObjectNode().set("runs", arr));
                }
                default -> throw new HttpError(405, "method " + method + " not allowed on " + path);
            }
            return;
        }
        String id = parts[4];
        if (parts.length == 5 && id.equals("replay") && method.equals("POST")) {
            send(ex, 200, replayMatching(tenant, body(ex)));
        } else if (parts.length == 6 && parts[5].equals("replay") && method.equals("POST")) {
            JsonNode b = body(ex);
            if (!b.isObject()) throw new HttpError(400, "body: expected a JSON object (may be {})");
            engine.replays().replay(tenant, id, optText(b, "fromStep"));
            send(ex, 200, runJson(engine.runs().get(tenant, id)));
        } else if (parts.length == 5 && method.equals("GET")) {
            send(ex, 200, runJson(engine.runs().get(tenant, id)));
        } else if (parts.length == 6 && parts[5].equals("cancel") && method.equals("POST")) {
            boolean cancelled = engine.runs().cancel(tenant, id);
            send(ex, 200, JSON.createObjectNode().put("cancelled", cancelled)
                    .put("status", engine.runs().get(tenant, id).status()));
        } else if (parts.length == 6 && parts[5].equals("await") && method.equals("GET")) {
            long ms = Math.min(intParam(q, "timeoutMs", 30_000), 300_000);
            if (ms < 0) throw new HttpError(400, "timeoutMs: must not be negative");
            if (ms == 0) ms = 30_000; // as over gRPC: 0 means the default
            send(ex, 200, runJson(engine.runs().await(tenant, id, Duration.ofMillis(ms))));
        } else {
            throw new HttpError(404, "no such endpoint: " + method + " " + path);
        }
    }

    private TriggerCommand triggerCommand(String tenant, JsonNode body) {
        if (!body.isObject()) throw new HttpError(400, "body: expected a JSON object");
        JsonNode wf = body.get("workflow");
        if (wf == null || !wf.isTextual() || wf.asText().isBlank()) {
            throw new HttpError(400, "workflow: required, the name of a registered workflow");
        }
        JsonNode input = body.get("input");
        Map<String, String> metadata = metadata(body);
        JsonNode prio = body.get("priority");
        if (prio != null && !prio.isNull() && !prio.isInt()) throw new HttpError(400, "priority: expected an integer 0-4");
        TriggerCommand cmd = new TriggerCommand(tenant, wf.asText(), optText(body, "version"), input == null ? "{}" : input.toString(),
                metadata, optText(body, "idempotencyKey"), prio == null || prio.isNull() ? 0 : prio.asInt(),
                optText(body, "runId"));
        String parent = optText(body, "parentRunId");
        if (parent == null) return cmd;
        // A child run (see TriggerRunRequest.parent_run_id): created once per (parent, step, index).
        JsonNode index = body.get("childIndex");
        if (index != null && !index.isNull() && !index.isInt()) throw new HttpError(400, "childIndex: expected an integer");
        return cmd.withLink(new dev.drover.server.engine.Views.Link(parent, optText(body, "parentStep"),
                index == null || index.isNull() ? 0 : index.asInt(), null));
    }

    /** POST /api/v1/runs/replay: {"workflow", "status", "createdAfter", "createdBefore", "metadata", "fromStep", "limit"}. */
    private ObjectNode replayMatching(String tenant, JsonNode body) {
        if (!body.isObject()) throw new HttpError(400, "body: expected a JSON object");
        String wf = optText(body, "workflow");
        if (wf == null || wf.isBlank()) throw new HttpError(400, "workflow: required");
        Map<String, String> metadata = metadata(body);
        JsonNode lim = body.get("limit");
        if (lim != null && !lim.isNull() && !lim.isInt()) throw new HttpError(400, "limit: expected an integer");
        var ids = engine.replays().replayMatching(tenant, wf, optText(body, "status"), instant(body, "createdAfter"),
                instant(body, "createdBefore"), metadata, optText(body, "fromStep"), lim == null || lim.isNull() ? 0 : lim.asInt());
        ObjectNode out = JSON.createObjectNode();
        out.set("runIds", JSON.valueToTree(ids));
        return out;
    }

    private static java.time.Instant instant(JsonNode body, String field) {
        String t = optText(body, field);
        if (t == null) return null;
        try {
            return java.time.Instant.parse(t);
        } catch (java.time.format.DateTimeParseException e) {
            throw new HttpError(400, field + ": expected an ISO-8601 instant such as 2026-11-25T10:00:00Z");
        }
    }

    /** The optional "metadata" object of strings of a request body. */
    private static Map<String, String> metadata(JsonNode body) {
        Map<String, String> metadata = new HashMap<>();
        JsonNode md = body.get("metadata");
        if (md != null && !md.isNull()) {
            if (!md.isObject()) throw new HttpError(400, "metadata: expected an object of strings");
            for (Iterator<Map.Entry<String, JsonNode>> it = md.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getValue().isTextual()) {
                    throw new HttpError(400, "metadata." + dev.drover.server.engine.Text.clip(e.getKey(), 40) + ": expected a string");
                }
                metadata.put(e.getKey(), e.getValue().asText());
            }
        }
        return metadata;
    }

    /** An optional string field: absent or null means not given; any other type is refused. */
    private static String optText(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw new HttpError(400, field + ": expected a string");
        return n.asText();
    }

    private void authenticate(HttpExchange ex) {
        String got = ex.getRequestHeaders().getFirst("Authorization");
        if (got == null) throw new HttpError(401, "missing 'Authorization: Bearer <token>' header");
        if (!MessageDigest.isEqual(expectedAuth, got.getBytes(StandardCharsets.UTF_8))) throw new HttpError(401, "invalid token");
    }

    /**
     * Reads and discards the body of a route that takes none. Read to the end (up to {@link #DRAIN_LIMIT}):
     * closing a socket with unread bytes resets it, and the reset can destroy the reply in flight
     * (seen with a 17 MiB body on a worker route whose handler read only the first MiB).
     */
    static void drain(HttpExchange ex) throws IOException {
        long total;
        try (InputStream in = ex.getRequestBody()) {
            total = discard(in);
        }
        if (total > MAX_BODY) throw new HttpError(413, "body: larger than 16 MiB");
    }

    /**
     * Before an error reply: reads what a refused request left of its body (a POST to no route, a body
     * refused before it was read). The JDK server closes a connection with more than 64 KiB unread, and
     * the reset can destroy the reply in flight (the HTTP fuzz test saw it with a 400 KB POST to no route).
     */
    private static void unread(HttpExchange ex) {
        try {
            discard(ex.getRequestBody());
        } catch (IOException e) {
            log.debug("Could not read the rest of a refused request's body: {}", e.toString());
        }
    }

    /** Reads what is left of a body (up to {@link #DRAIN_LIMIT}) before an error reply; returns how much. */
    static long discard(InputStream in) throws IOException {
        long total = 0;
        byte[] buf = new byte[64 * 1024];
        for (int n; total <= DRAIN_LIMIT && (n = in.read(buf)) != -1; ) total += n;
        return total;
    }

    private static final long DRAIN_LIMIT = 64L * 1024 * 1024;

    private static final int MAX_BODY = 16 * 1024 * 1024;

    private static JsonNode body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] bytes = in.readNBytes(16 * 1024 * 1024 + 1);
            if (bytes.length > 16 * 1024 * 1024 && discard(in) >= 0) throw new HttpError(413, "body: larger than 16 MiB");
            if (bytes.length == 0) throw new HttpError(400, "body: expected a JSON object");
            return JSON.readTree(bytes);
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
            out.put(URLDecoder.decode(p[0], StandardCharsets.UTF_8), p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
        }
        return out;
    }

    private static int intParam(Map<String, String> q, String name, int dflt) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) return dflt;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new HttpError(400, name + ": expected an integer, got '" + v + "'");
        }
    }

    private static ObjectNode runJson(RunView r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", r.id()).put("workflow", r.workflowName()).put("version", r.workflowVersion()).put("status", r.status());
        n.set("input", parse(r.inputJson()));
        n.set("output", parse(r.outputJson()));
        n.put("error", r.error());
        n.set("metadata", JSON.valueToTree(r.metadata()));
        n.put("priority", r.priority()).put("idempotencyKey", r.idempotencyKey());
        if (r.parentRunId() != null) {
            n.put("parentRunId", r.parentRunId()).put("parentStep", r.parentStep());
            if (r.childIndex() != null) n.put("childIndex", r.childIndex());
        }
        if (r.eventId() != null) n.put("eventId", r.eventId());
        n.put("createdAt", str(r.createdAt())).put("startedAt", str(r.startedAt())).put("finishedAt", str(r.finishedAt()));
        var steps = n.putArray("steps");
        for (StepView s : r.steps()) {
            ObjectNode sn = steps.addObject();
            sn.put("name", s.name()).put("status", s.status()).put("attempts", s.attempts());
            sn.set("output", parse(s.outputJson()));
            sn.put("error", s.error()).put("workerId", s.workerId());
            sn.put("startedAt", str(s.startedAt())).put("finishedAt", str(s.finishedAt()));
            sn.set("parents", JSON.valueToTree(s.parents()));
        }
        n.set("failedAttempts", JSON.valueToTree(r.failedAttempts()));
        return n;
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static JsonNode parse(String json) {
        if (json == null) return null;
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            return JSON.getNodeFactory().textNode(json);
        }
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", dev.drover.server.engine.Text.clip(message, 2000));
    }

    static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(1);
        executor.shutdownNow();
    }
}
