package dev.drover.server.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** SQL of drover_event (pushed events) and drover_event_listener (who listens to what). */
public final class EventQueries {
    private static final String COLUMNS = """
            id, tenant_id, name, payload::text AS payload, metadata::text AS metadata, idempotency_key, created_at""";

    public record NewEvent(UUID id, String tenantId, String name, String payloadJson, String metadataJson,
                           String idempotencyKey) {}

    public record EventRow(UUID id, String tenantId, String name, String payloadJson, String metadataJson,
                           String idempotencyKey, Instant createdAt) {}

    /** One listener of a workflow; {@code filter} null when every matching event starts it. */
    public record ListenerRow(String workflowName, String workflowVersion, String pattern, String filter) {}

    /**
     * Inserts events in one statement; returns the ids actually inserted. An event whose id or
     * idempotency key is already stored is skipped (the caller compares and decides).
     */
    public Set<UUID> insert(StoreTx tx, List<NewEvent> events) {
        int n = events.size();
        Object[] ids = new Object[n], tenants = new Object[n], names = new Object[n], payloads = new Object[n],
                metas = new Object[n], keys = new Object[n];
        for (int i = 0; i < n; i++) {
            NewEvent e = events.get(i);
            ids[i] = e.id();
            tenants[i] = e.tenantId();
            names[i] = e.name();
            payloads[i] = e.payloadJson();
            metas[i] = e.metadataJson();
            keys[i] = e.idempotencyKey();
        }
        return new HashSet<>(tx.query("""
                INSERT INTO drover_event (id, tenant_id, name, payload, metadata, idempotency_key)
                SELECT u.id, u.tenant, u.name, u.payload::jsonb, u.meta::jsonb, u.key
                FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                     AS u(id, tenant, name, payload, meta, key)
                ORDER BY u.key NULLS LAST -- concurrent pushes take key locks in one order: no deadlock
                ON CONFLICT DO NOTHING
                RETURNING id""",
                ps -> {
                    ps.setArray(1, tx.array("uuid", ids));
                    ps.setArray(2, tx.array("text", tenants));
                    ps.setArray(3, tx.array("text", names));
                    ps.setArray(4, tx.array("text", payloads));
                    ps.setArray(5, tx.array("text", metas));
                    ps.setArray(6, tx.array("text", keys));
                },
                rs -> rs.getObject(1, UUID.class)));
    }

    /** Stored events of the tenant having one of the ids or one of the idempotency keys. */
    public List<EventRow> existing(StoreTx tx, String tenantId, List<UUID> ids, List<String> keys) {
        if (ids.isEmpty() && keys.isEmpty()) return List.of();
        return tx.query("SELECT " + COLUMNS + """
                 FROM drover_event
                WHERE tenant_id = ? AND (id = ANY(?::uuid[]) OR idempotency_key = ANY(?::text[]))""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setArray(2, tx.array("uuid", ids.toArray()));
                    ps.setArray(3, tx.array("text", keys.toArray()));
                }, EventQueries::row);
    }

    public Optional<EventRow> get(StoreTx tx, String tenantId, UUID id) {
        return tx.query("SELECT " + COLUMNS + " FROM drover_event WHERE id = ? AND tenant_id = ?",
                ps -> {
                    ps.setObject(1, id);
                    ps.setString(2, tenantId);
                }, EventQueries::row).stream().findFirst();
    }

    /**
     * Newest first. {@code name}: exact when {@code prefix} is null; else events whose name starts with
     * {@code prefix} (a wildcard's "order." part); both null = all.
     */
    public List<EventRow> list(StoreTx tx, String tenantId, String name, String prefix, UUID beforeId, int limit) {
        return tx.query("SELECT " + COLUMNS + """
                 FROM drover_event
                WHERE tenant_id = ? AND (?::text IS NULL OR name = ?) AND (?::text IS NULL OR starts_with(name, ?))
                  AND (?::uuid IS NULL OR id < ?::uuid)
                ORDER BY id DESC LIMIT ?""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, name);
                    ps.setString(3, name);
                    ps.setString(4, prefix);
                    ps.setString(5, prefix);
                    ps.setObject(6, beforeId);
                    ps.setObject(7, beforeId);
                    ps.setInt(8, limit);
                }, EventQueries::row);
    }

    /** The runs each event started, oldest first; events without runs are absent. */
    public Map<UUID, List<UUID>> runIds(StoreTx tx, List<UUID> eventIds) {
        Map<UUID, List<UUID>> out = new LinkedHashMap<>();
        if (eventIds.isEmpty()) return out;
        tx.query("SELECT event_id, id FROM drover_run WHERE event_id = ANY(?::uuid[]) ORDER BY id",
                ps -> ps.setArray(1, tx.array("uuid", eventIds.toArray())),
                rs -> out.computeIfAbsent(rs.getObject(1, UUID.class), k -> new ArrayList<>()).add(rs.getObject(2, UUID.class)));
        return out;
    }

    /** Every listener of the tenant: few rows (one per declared trigger), read by each push. */
    public List<ListenerRow> listeners(StoreTx tx, String tenantId) {
        return tx.query("""
                SELECT workflow_name, workflow_version, pattern, filter FROM drover_event_listener
                WHERE tenant_id = ? ORDER BY workflow_name, position""",
                ps -> ps.setString(1, tenantId),
                rs -> new ListenerRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
    }

    /**
     * Replaces the listeners of one workflow. Serialised per workflow by an advisory lock: two
     * registrations deleting and re-inserting the same rows concurrently would otherwise collide.
     * Unchanged listeners are not rewritten (workers register on every start).
     */
    public void replaceListeners(StoreTx tx, String tenantId, String workflowName, List<ListenerRow> listeners) {
        tx.query("SELECT pg_advisory_xact_lock(hashtext('drover_event_listener'), hashtext(? || chr(1) || ?))",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, workflowName);
                }, rs -> null);
        List<ListenerRow> current = tx.query("""
                SELECT workflow_name, workflow_version, pattern, filter FROM drover_event_listener
                WHERE tenant_id = ? AND workflow_name = ? ORDER BY position""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, workflowName);
                },
                rs -> new ListenerRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
        if (current.equals(listeners)) return;
        tx.update("DELETE FROM drover_event_listener WHERE tenant_id = ? AND workflow_name = ?",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, workflowName);
                });
        if (listeners.isEmpty()) return;
        int n = listeners.size();
        Object[] positions = new Object[n], versions = new Object[n], patterns = new Object[n], filters = new Object[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i;
            versions[i] = listeners.get(i).workflowVersion();
            patterns[i] = listeners.get(i).pattern();
            filters[i] = listeners.get(i).filter();
        }
        tx.update("""
                INSERT INTO drover_event_listener (tenant_id, workflow_name, position, workflow_version, pattern, filter)
                SELECT ?, ?, u.pos, u.version, u.pattern, u.filter
                FROM unnest(?::int[], ?::text[], ?::text[], ?::text[]) AS u(pos, version, pattern, filter)""",
                ps -> {
                    ps.setString(1, tenantId);
                    ps.setString(2, workflowName);
                    ps.setArray(3, tx.array("int", positions));
                    ps.setArray(4, tx.array("text", versions));
                    ps.setArray(5, tx.array("text", patterns));
                    ps.setArray(6, tx.array("text", filters));
                });
    }

    /**
     * Deletes events older than the retention whose runs are all gone (runs are pruned on their own
     * schedule; an event outlives them only while one is kept).
     */
    public int prune(StoreTx tx, long olderThanMs, int limit) {
        return tx.update("""
                DELETE FROM drover_event WHERE id IN (
                    SELECT e.id FROM drover_event e
                    WHERE e.created_at < now() - ? * interval '1 millisecond'
                      AND NOT EXISTS (SELECT 1 FROM drover_run r WHERE r.event_id = e.id)
                    ORDER BY e.created_at LIMIT ? FOR UPDATE SKIP LOCKED)""",
                ps -> {
                    ps.setLong(1, olderThanMs);
                    ps.setInt(2, limit);
                });
    }

    private static EventRow row(ResultSet rs) throws SQLException {
        return new EventRow(Sql.uuid(rs, "id"), rs.getString("tenant_id"), rs.getString("name"), rs.getString("payload"),
                rs.getString("metadata"), rs.getString("idempotency_key"), Sql.instant(rs, "created_at"));
    }
}
