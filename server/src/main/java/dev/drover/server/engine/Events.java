package dev.drover.server.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.drover.proto.v1.EventTrigger;
import dev.drover.proto.v1.WorkflowDefinition;
import dev.drover.server.engine.Views.Link;
import dev.drover.server.engine.Views.TriggerCommand;
import dev.drover.server.engine.Views.TriggerResult;
import dev.drover.server.store.Database;
import dev.drover.server.store.EventQueries;
import dev.drover.server.store.EventQueries.EventRow;
import dev.drover.server.store.EventQueries.ListenerRow;
import dev.drover.server.store.EventQueries.NewEvent;
import dev.drover.server.store.StoreTx;
import dev.drover.server.store.WorkflowQueries;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Events: push (one or up to {@value #MAX_BATCH} at once), inspect and replay.
 *
 * <p>A push stores its events and starts every listening workflow in one transaction (through
 * {@link Runs#triggerAll(List, Runs.AlsoInTx)}), so no event is accepted without its runs. Who listens is
 * read from drover_event_listener in each push rather than from a per-process cache: a workflow
 * registered through any replica is heard by the next push on every replica.
 *
 * <p>Pushes are idempotent by event id and by idempotency key: a push that repeats a stored event
 * returns it with its runs and starts nothing. Which listeners match is decided before the
 * transaction; when a concurrent push stores the same event first, the insert finds it, the
 * transaction is rolled back and the push starts over (it then finds the stored event).
 */
public final class Events {
    private static final Logger log = LoggerFactory.getLogger(Events.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final int MAX_BATCH = 10_000;
    public static final int MAX_NAME = 200;
    private static final int MAX_KEY = 512;
    private static final int MAX_METADATA = 64 * 1024;
    /** The variables a listener's filter may use. */
    static final Set<String> FILTER_VARIABLES = Set.of("payload", "metadata");
    private static final EventQueries EVENTS = new EventQueries();

    private final Database db;
    private final Runs runs;
    private final EngineSettings settings;
    private final List<EventSink> sinks = new CopyOnWriteArrayList<>();

    Events(Database db, Runs runs, EngineSettings settings) {
        this.db = db;
        this.runs = runs;
        this.settings = settings;
    }

    /**
     * Work other parts of the engine do with newly stored events, inside the push transaction (for
     * example waking runs that wait for an event). Not called for repeated pushes nor for replays.
     */
    public interface EventSink {
        void pushed(StoreTx tx, List<StoredEvent> events, Effects fx);
    }

    /** An event as stored; {@code metadataJson} is a JSON object of strings. */
    public record StoredEvent(UUID id, String tenantId, String name, String payloadJson, String metadataJson) {}

    /** A push request; {@code payloadJson} null or empty means {}, {@code eventId} null or empty: the server picks one. */
    public record PushCommand(String tenantId, String name, String payloadJson, Map<String, String> metadata,
                              String idempotencyKey, String eventId) {}

    /** {@code created} false: the event was already stored (same id or key) and nothing was started. */
    public record PushResult(String eventId, boolean created, List<String> runIds) {}

    /** {@code runIds} empty in lists. */
    public record EventView(String id, String name, String payloadJson, Map<String, String> metadata,
                            String idempotencyKey, Instant createdAt, List<String> runIds) {}

    public void addSink(EventSink sink) {
        sinks.add(sink);
    }

    // ---------------------------------------------------------------------------------------------
    // Push
    // ---------------------------------------------------------------------------------------------

    public PushResult push(PushCommand cmd) {
        return pushAll(List.of(cmd), false).get(0);
    }

    /** Up to {@value #MAX_BATCH} events in one transaction: all stored with their runs, or none. */
    public List<PushResult> pushAll(List<PushCommand> cmds) {
        return pushAll(cmds, true);
    }

    private record Item(UUID id, String tenantId, String name, String payloadJson, Map<String, String> metadata,
                        String metadataJson, String key) {}

    /** Thrown inside the transaction when another push stored one of our events first: start over. */
    private static final class Raced extends RuntimeException {
        Raced() {
            super("an event was stored concurrently", null, false, false);
        }
    }

    /**
     * Thrown inside the transaction when the listeners changed since they were read (a workflow was
     * registered or updated meanwhile): start over, so that a push committed after a registration
     * always starts that workflow's run.
     */
    private static final class ListenersChanged extends RuntimeException {
        ListenersChanged() {
            super("event listeners changed concurrently", null, false, false);
        }
    }

    private List<PushResult> pushAll(List<PushCommand> cmds, boolean batch) {
        if (cmds.isEmpty()) throw EngineException.invalid("events: must not be empty");
        if (cmds.size() > MAX_BATCH) throw EngineException.invalid("events: at most " + MAX_BATCH + " per call, got " + cmds.size());
        List<Item> items = new ArrayList<>(cmds.size());
        for (int i = 0; i < cmds.size(); i++) items.add(validate(cmds.get(i), batch ? "events[" + i + "]." : ""));
        String tenant = items.get(0).tenantId();

        // An item repeating an earlier item's id or key answers with that item's event.
        int[] leader = new int[items.size()];
        Map<UUID, Integer> byId = new HashMap<>();
        Map<String, Integer> byKey = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            Integer first = byId.get(it.id());
            if (first == null && it.key() != null) first = byKey.get(it.key());
            leader[i] = first == null ? i : first;
            if (first == null) {
                byId.put(it.id(), i);
                if (it.key() != null) byKey.put(it.key(), i);
            }
        }

        for (int attempt = 1; ; attempt++) {
            try {
                return pushOnce(tenant, items, leader);
            } catch (ListenersChanged c) {
                if (attempt >= 5) {
                    throw new EngineException(EngineException.Kind.UNAVAILABLE,
                            "event listeners kept changing while the event was pushed (workflows being registered); retry");
                }
            } catch (Raced r) {
                if (attempt >= 5) {
                    // A race resolves on the next attempt (the winner's event is then found); what keeps
                    // colliding is an id already used by an event of another tenant.
                    throw EngineException.invalid((batch ? "events: an " : "") + "event_id is already used by another event");
                }
            }
        }
    }

    private List<PushResult> pushOnce(String tenant, List<Item> items, int[] leader) {
        List<UUID> ids = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            if (leader[i] != i) continue;
            ids.add(items.get(i).id());
            if (items.get(i).key() != null) keys.add(items.get(i).key());
        }
        record Snapshot(List<EventRow> existing, List<ListenerRow> listeners) {}
        Snapshot snap = db.inTx(tx -> new Snapshot(EVENTS.existing(tx, tenant, ids, keys), EVENTS.listeners(tx, tenant)));

        // Which leaders are already stored, and as which event.
        Map<UUID, EventRow> storedById = new HashMap<>();
        Map<String, EventRow> storedByKey = new HashMap<>();
        for (EventRow e : snap.existing()) {
            storedById.put(e.id(), e);
            if (e.idempotencyKey() != null) storedByKey.put(e.idempotencyKey(), e);
        }
        Map<Integer, UUID> existingOf = new HashMap<>();
        List<Item> fresh = new ArrayList<>();
        List<Integer> freshIndex = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            if (leader[i] != i) continue;
            Item it = items.get(i);
            EventRow e = storedById.get(it.id());
            if (e == null && it.key() != null) e = storedByKey.get(it.key());
            if (e != null) {
                existingOf.put(i, e.id());
            } else {
                fresh.add(it);
                freshIndex.add(i);
            }
        }

        List<Listener> listeners = compile(snap.listeners());
        List<TriggerCommand> triggers = new ArrayList<>();
        int[] firstTrigger = new int[fresh.size()];
        int[] triggerCount = new int[fresh.size()];
        for (int f = 0; f < fresh.size(); f++) {
            Item it = fresh.get(f);
            firstTrigger[f] = triggers.size();
            for (Listener l : matching(listeners, it.name(), it.payloadJson(), it.metadataJson())) {
                triggers.add(new TriggerCommand(it.tenantId(), l.workflowName(), l.workflowVersion(), it.payloadJson(),
                        it.metadata(), null, 0, null).withLink(Link.event(it.id().toString())));
            }
            triggerCount[f] = triggers.size() - firstTrigger[f];
        }

        List<TriggerResult> started = List.of();
        if (!fresh.isEmpty()) {
            List<NewEvent> rows = new ArrayList<>(fresh.size());
            List<StoredEvent> stored = new ArrayList<>(fresh.size());
            for (Item it : fresh) {
                rows.add(new NewEvent(it.id(), it.tenantId(), it.name(), it.payloadJson(), it.metadataJson(), it.key()));
                stored.add(new StoredEvent(it.id(), it.tenantId(), it.name(), it.payloadJson(), it.metadataJson()));
            }
            started = runs.triggerAll(triggers, (tx, fx) -> {
                // The listeners were matched outside this transaction (CEL filters are not evaluated
                // with the transaction open); if a registration committed since, match again.
                if (!EVENTS.listeners(tx, tenant).equals(snap.listeners())) throw new ListenersChanged();
                Set<UUID> inserted = EVENTS.insert(tx, rows);
                if (inserted.size() != rows.size()) throw new Raced();
                for (EventSink s : sinks) s.pushed(tx, stored, fx);
            });
        }

        Map<UUID, List<UUID>> oldRuns = existingOf.isEmpty() ? Map.of()
                : db.inTx(tx -> EVENTS.runIds(tx, List.copyOf(existingOf.values())));
        PushResult[] byLeader = new PushResult[items.size()];
        for (int f = 0; f < fresh.size(); f++) {
            List<String> runIds = new ArrayList<>(triggerCount[f]);
            for (int k = 0; k < triggerCount[f]; k++) runIds.add(started.get(firstTrigger[f] + k).runId());
            byLeader[freshIndex.get(f)] = new PushResult(fresh.get(f).id().toString(), true, List.copyOf(runIds));
        }
        for (var e : existingOf.entrySet()) {
            byLeader[e.getKey()] = new PushResult(e.getValue().toString(), false,
                    oldRuns.getOrDefault(e.getValue(), List.of()).stream().map(UUID::toString).toList());
        }
        List<PushResult> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            PushResult r = byLeader[leader[i]];
            out.add(leader[i] == i ? r : new PushResult(r.eventId(), false, r.runIds()));
        }
        return out;
    }

    private Item validate(PushCommand c, String p) {
        String name = c.name();
        if (name == null || name.isBlank()) throw EngineException.invalid(p + "name: must not be empty");
        if (name.length() > MAX_NAME) throw EngineException.invalid(p + "name: at most " + MAX_NAME + " characters");
        Text.check(p + "name", name);
        String payload = c.payloadJson() == null || c.payloadJson().isBlank() ? "{}" : c.payloadJson();
        Runs.checkSize(p + "payload_json", payload, settings.maxPayloadBytes());
        String problem = JsonText.problem(payload);
        if (problem != null) throw EngineException.invalid(p + "payload_json: not valid JSON: " + problem);
        Map<String, String> metadata = c.metadata() == null ? Map.of() : c.metadata();
        for (var e : metadata.entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty()) throw EngineException.invalid(p + "metadata: keys must not be empty");
            Text.check(p + "metadata key", e.getKey());
            if (e.getValue() == null) throw EngineException.invalid(p + "metadata." + Text.clip(e.getKey(), 40) + ": must be a string");
            Text.check(p + "metadata." + Text.clip(e.getKey(), 40), e.getValue());
        }
        String metadataJson;
        try {
            metadataJson = metadata.isEmpty() ? "{}" : JSON.writeValueAsString(new java.util.TreeMap<>(metadata));
        } catch (JsonProcessingException e) {
            throw EngineException.invalid(p + "metadata: " + e.getOriginalMessage());
        }
        if (metadataJson.length() > MAX_METADATA) throw EngineException.invalid(p + "metadata: more than 64 KiB");
        String key = c.idempotencyKey() == null || c.idempotencyKey().isEmpty() ? null : c.idempotencyKey();
        if (key != null) {
            if (key.length() > MAX_KEY) throw EngineException.invalid(p + "idempotency_key: at most " + MAX_KEY + " characters");
            Text.check(p + "idempotency_key", key);
        }
        UUID id = c.eventId() == null || c.eventId().isEmpty() ? Ids.newRunId() : Ids.parse(p + "event_id", c.eventId());
        return new Item(id, c.tenantId(), name, payload, metadata, metadataJson, key);
    }

    // ---------------------------------------------------------------------------------------------
    // Inspect and replay
    // ---------------------------------------------------------------------------------------------

    public EventView get(String tenantId, String eventId) {
        UUID id = Ids.parse("event_id", eventId);
        return db.inTx(tx -> {
            EventRow e = EVENTS.get(tx, tenantId, id).orElseThrow(() -> EngineException.notFound("event_id: no event " + id));
            List<UUID> started = EVENTS.runIds(tx, List.of(id)).getOrDefault(id, List.of());
            return view(e, started.stream().map(UUID::toString).toList());
        });
    }

    /** Newest first; {@code name} exact or a wildcard ("order.*", "*"); null or empty for all. */
    public List<EventView> list(String tenantId, String name, String beforeEventId, int limit) {
        if (limit < 0 || limit > 1000) throw EngineException.invalid("limit: must be between 1 and 1000");
        int lim = limit == 0 ? 50 : limit;
        String exact = null, prefix = null;
        if (name != null && !name.isEmpty()) {
            Text.check("name", name);
            if (name.contains("*")) {
                String bad = patternProblem(name);
                if (bad != null) throw EngineException.invalid("name: " + bad);
                prefix = name.equals("*") ? null : name.substring(0, name.length() - 1);
            } else {
                exact = name;
            }
        }
        UUID before = beforeEventId == null || beforeEventId.isEmpty() ? null : Ids.parse("before_event_id", beforeEventId);
        String e = exact, pre = prefix;
        return db.inTx(tx -> EVENTS.list(tx, tenantId, e, pre, before, lim)).stream().map(r -> view(r, List.of())).toList();
    }

    /** Starts the workflows listening now, with new runs linked to the event; returns them. */
    public List<String> replay(String tenantId, String eventId) {
        UUID id = Ids.parse("event_id", eventId);
        record Snapshot(EventRow event, List<ListenerRow> listeners) {}
        Snapshot snap = db.inTx(tx -> new Snapshot(
                EVENTS.get(tx, tenantId, id).orElseThrow(() -> EngineException.notFound("event_id: no event " + id)),
                EVENTS.listeners(tx, tenantId)));
        EventRow e = snap.event();
        Map<String, String> metadata = metadata(e.metadataJson());
        List<TriggerCommand> triggers = new ArrayList<>();
        for (Listener l : matching(compile(snap.listeners()), e.name(), e.payloadJson(), e.metadataJson())) {
            triggers.add(new TriggerCommand(tenantId, l.workflowName(), l.workflowVersion(), e.payloadJson(), metadata,
                    null, 0, null).withLink(Link.event(id.toString())));
        }
        if (triggers.isEmpty()) return List.of();
        return runs.triggerAll(triggers).stream().map(TriggerResult::runId).toList();
    }

    /** Deletes events past the retention whose runs are gone; returns how many. */
    int prune(long retentionMs) {
        int total = 0, n;
        do {
            n = db.inTx(tx -> EVENTS.prune(tx, retentionMs, 1000));
            total += n;
        } while (n == 1000);
        return total;
    }

    private static EventView view(EventRow e, List<String> runIds) {
        return new EventView(e.id().toString(), e.name(), e.payloadJson(), metadata(e.metadataJson()), e.idempotencyKey(),
                e.createdAt(), runIds);
    }

    private static Map<String, String> metadata(String json) {
        try {
            return json == null ? Map.of() : JSON.readValue(json, new TypeReference<LinkedHashMap<String, String>>() {});
        } catch (JsonProcessingException e) {
            return Map.of();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Listeners
    // ---------------------------------------------------------------------------------------------

    private record Listener(String workflowName, String workflowVersion, String pattern, Expressions.Compiled filter) {}

    private static List<Listener> compile(List<ListenerRow> rows) {
        List<Listener> out = new ArrayList<>(rows.size());
        for (ListenerRow r : rows) {
            Expressions.Compiled filter = null;
            if (r.filter() != null) {
                try {
                    filter = Expressions.compile("filter", r.filter(), FILTER_VARIABLES);
                } catch (EngineException e) {
                    // Checked at registration; a stored filter that no longer compiles matches nothing.
                    log.warn("Listener of workflow {} has an invalid filter, ignored: {}", r.workflowName(), e.getMessage());
                    continue;
                }
            }
            out.add(new Listener(r.workflowName(), r.workflowVersion(), r.pattern(), filter));
        }
        return out;
    }

    /** The listeners that start a run for this event: one per workflow, whichever of its listeners matched first. */
    private static List<Listener> matching(List<Listener> listeners, String name, String payloadJson, String metadataJson) {
        List<Listener> out = new ArrayList<>();
        Expressions.Bindings bindings = null;
        String lastAdded = null;
        for (Listener l : listeners) {
            // Rows come ordered by workflow, so a workflow already matched is the last one added.
            if (l.workflowName().equals(lastAdded)) continue;
            if (!matches(l.pattern(), name)) continue;
            if (l.filter() != null) {
                if (bindings == null) bindings = Expressions.bind(Map.of("payload", payloadJson, "metadata", metadataJson));
                if (!l.filter().test(bindings)) continue;
            }
            out.add(l);
            lastAdded = l.workflowName();
        }
        return out;
    }

    /** Exact, "*" (every event) or "prefix.*" (one or more dot-separated segments after "prefix."). */
    static boolean matches(String pattern, String name) {
        if (pattern.equals("*")) return true;
        if (pattern.endsWith(".*")) {
            int prefix = pattern.length() - 1; // keeps the dot
            return name.length() > prefix && name.regionMatches(0, pattern, 0, prefix);
        }
        return pattern.equals(name);
    }

    /** Null when the pattern is valid, else why not. */
    static String patternProblem(String pattern) {
        if (pattern == null || pattern.isBlank()) return "must not be empty";
        if (pattern.length() > MAX_NAME) return "at most " + MAX_NAME + " characters";
        int star = pattern.indexOf('*');
        if (star >= 0 && !(pattern.equals("*") || (star == pattern.length() - 1 && pattern.endsWith(".*") && pattern.length() > 2))) {
            return "'" + Text.clip(pattern, 80) + "': '*' may only stand alone or as the whole last segment, as in 'order.*'";
        }
        return null;
    }

    /**
     * Called by {@link WorkflowCatalog#register} inside its transaction, after the definition is stored:
     * checks the definition's listeners and makes drover_event_listener reflect the workflow's latest
     * version (registering an older version again, as an old worker does, leaves the listeners alone).
     */
    static void registered(StoreTx tx, String tenantId, WorkflowDefinition def) {
        List<ListenerRow> mine = listenersOf(def);
        var latest = new WorkflowQueries().latest(tx, tenantId, def.getName()).orElse(null);
        List<ListenerRow> rows = mine;
        if (latest != null && !latest.version().equals(def.getVersion())) {
            try {
                rows = listenersOf(WorkflowDefinition.parseFrom(latest.definition()));
            } catch (InvalidProtocolBufferException | EngineException e) {
                log.warn("Latest definition of workflow {} has unusable event listeners: {}", def.getName(), e.getMessage());
                rows = List.of();
            }
        }
        EVENTS.replaceListeners(tx, tenantId, def.getName(), rows);
    }

    private static List<ListenerRow> listenersOf(WorkflowDefinition def) {
        List<ListenerRow> out = new ArrayList<>();
        for (int i = 0; i < def.getOnEventsCount(); i++) {
            String pattern = def.getOnEvents(i);
            checkPattern("workflow.on_events[" + i + "]", pattern, def.getName());
            out.add(new ListenerRow(def.getName(), def.getVersion(), pattern, null));
        }
        for (int i = 0; i < def.getEventTriggersCount(); i++) {
            EventTrigger t = def.getEventTriggers(i);
            String field = "workflow.event_triggers[" + i + "]";
            checkPattern(field + ".event", t.getEvent(), def.getName());
            String filter = t.getFilter().isBlank() ? null : t.getFilter();
            if (filter != null) {
                try {
                    Expressions.compile(field + ".filter", filter, FILTER_VARIABLES);
                } catch (EngineException e) {
                    throw EngineException.invalid(e.getMessage() + " (workflow '" + Text.clip(def.getName(), 100) + "')");
                }
            }
            out.add(new ListenerRow(def.getName(), def.getVersion(), t.getEvent(), filter));
        }
        return out;
    }

    private static void checkPattern(String field, String pattern, String workflow) {
        Text.check(field, pattern);
        String bad = patternProblem(pattern);
        if (bad != null) throw EngineException.invalid(field + ": " + bad + " (workflow '" + Text.clip(workflow, 100) + "')");
    }
}
