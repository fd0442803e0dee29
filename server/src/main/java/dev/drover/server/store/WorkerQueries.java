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
    public record WorkerRow(UUID id, String tenantId, String name, int slots, String[] actions) {}

    public java.util.Optional<WorkerRow> get(StoreTx tx, UUID id) {
        return tx.query("SELECT id, tenant_id, name, slots, actions FROM drover_worker WHERE id = ?",
                ps -> ps.setObject(1, id),
                rs -> new WorkerRow(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getInt(4),
                        (String[]) rs.getArray(5).getArray())).stream().findFirst();
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
