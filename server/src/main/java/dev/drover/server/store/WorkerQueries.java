package dev.drover.server.store;

import java.util.UUID;

/** SQL of drover_worker: who is connected, for people and for other server replicas. */
public final class WorkerQueries {

    public void upsert(StoreTx tx, UUID id, String tenantId, String name, int slots, String labelsJson,
                       String[] actions, String sdk) {
        tx.update("""
                INSERT INTO drover_worker (id, tenant_id, name, slots, labels, actions, sdk)
                VALUES (?, ?, ?, ?, ?::jsonb, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, slots = excluded.slots, labels = excluded.labels,
                    actions = excluded.actions, sdk = excluded.sdk, last_heartbeat_at = now()""",
                ps -> {
                    ps.setObject(1, id);
                    ps.setString(2, tenantId);
                    ps.setString(3, name);
                    ps.setInt(4, slots);
                    ps.setString(5, labelsJson);
                    ps.setArray(6, tx.array("text", actions));
                    ps.setString(7, sdk);
                });
    }

    /** A registered worker as stored (so any replica can accept its stream). */
    public record WorkerRow(UUID id, String tenantId, String name, int slots, String[] actions, String labelsJson,
                            String state) {}

    public java.util.Optional<WorkerRow> get(StoreTx tx, UUID id) {
        return tx.query("SELECT id, tenant_id, name, slots, actions, labels::text, state FROM drover_worker WHERE id = ?",
                ps -> ps.setObject(1, id),
                rs -> new WorkerRow(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getInt(4),
                        (String[]) rs.getArray(5).getArray(), rs.getString(6), rs.getString(7))).stream().findFirst();
    }

    /**
     * A worker as listed for people: its row, and what is leased to it now (counted from the queue,
     * so the figures are the same whichever replica holds its stream).
     */
    public record WorkerListing(UUID id, String name, String labelsJson, int slots, String[] actions, String sdk, String state,
                                java.time.Instant registeredAt, java.time.Instant lastHeartbeatAt, boolean alive,
                                int inFlight, int usedSlots) {}

    /** The tenant's workers (one, when {@code id} is not null), by name; alive: heartbeating within {@code aliveMs}. */
    public java.util.List<WorkerListing> list(StoreTx tx, String tenantId, UUID id, long aliveMs) {
        return tx.query("""
                SELECT w.id, w.name, w.labels::text AS labels, w.slots, w.actions, w.sdk, w.state, w.registered_at,
                       w.last_heartbeat_at, w.last_heartbeat_at > now() - ? * interval '1 millisecond' AS alive,
                       coalesce(l.n, 0) AS in_flight, coalesce(l.used, 0) AS used
                  FROM drover_worker w
                  LEFT JOIN LATERAL (SELECT count(*) AS n, sum(t.slot_cost) AS used FROM drover_task t
                                      WHERE t.worker_id = w.id AND t.state = 'leased') l ON true
                 WHERE w.tenant_id = ? AND (?::uuid IS NULL OR w.id = ?::uuid)
                 ORDER BY w.name, w.id""",
                ps -> {
                    ps.setLong(1, aliveMs);
                    ps.setString(2, tenantId);
                    ps.setObject(3, id);
                    ps.setObject(4, id);
                },
                rs -> new WorkerListing(Sql.uuid(rs, "id"), rs.getString("name"), rs.getString("labels"), rs.getInt("slots"),
                        (String[]) rs.getArray("actions").getArray(), rs.getString("sdk"), rs.getString("state"),
                        Sql.instant(rs, "registered_at"), Sql.instant(rs, "last_heartbeat_at"), rs.getBoolean("alive"),
                        rs.getInt("in_flight"), rs.getInt("used")));
    }

    /** Sets a worker's state ("active", "paused", "draining"); false when the tenant has no such worker. */
    public boolean setState(StoreTx tx, String tenantId, UUID id, String state) {
        return tx.update("UPDATE drover_worker SET state = ? WHERE id = ? AND tenant_id = ?", ps -> {
            ps.setString(1, state);
            ps.setObject(2, id);
            ps.setString(3, tenantId);
        }) == 1;
    }

    /** The stored states of the given workers (those without a row are left out). */
    public java.util.Map<UUID, String> states(StoreTx tx, UUID[] ids) {
        java.util.Map<UUID, String> out = new java.util.HashMap<>();
        tx.query("SELECT id, state FROM drover_worker WHERE id = ANY(?)", ps -> ps.setArray(1, tx.array("uuid", ids)),
                rs -> out.put(Sql.uuid(rs, "id"), rs.getString("state")));
        return out;
    }

    /** Records a heartbeat; false when the worker is unknown (never registered or pruned). */
    public boolean heartbeat(StoreTx tx, UUID id) {
        return tx.update("UPDATE drover_worker SET last_heartbeat_at = now() WHERE id = ?", ps -> ps.setObject(1, id)) == 1;
    }

    /** Forgets workers silent for longer than the given time; their leases expire on their own. */
    public int deleteSilent(StoreTx tx, long silentForMs) {
        return tx.update("DELETE FROM drover_worker WHERE last_heartbeat_at < now() - ? * interval '1 millisecond'",
                ps -> ps.setLong(1, silentForMs));
    }
}
